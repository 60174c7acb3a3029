"""The terminal UI (Textual): app, screens and widgets over the analysis report,
the frame index and the decoder's per-frame output. Nothing outside this
package imports textual."""
