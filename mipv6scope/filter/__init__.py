"""The display filter language of `packets -Y` and the TUI's filter bar:
Wireshark's field names and operators, plus mipv6scope's analysis fields.

    from mipv6scope.filter import compile_filter, FilterContext, FilterError
    flt = compile_filter("mip6.mhtype == 5 and mn == car-17")
    ctx = FilterContext.from_report(report) if flt.needs_analysis else None
    kept = [f for f in frames if flt.matches(f, ctx)]

No click, textual or rich here: the CLI and the TUI both call it.
"""

from .context import FilterContext
from .errors import FilterError
from .evaluate import CompiledFilter, compile_filter
from .fields import FIELD_TABLE, FIELDS, FieldSpec

__all__ = ["FIELDS", "FIELD_TABLE", "CompiledFilter", "FieldSpec", "FilterContext",
           "FilterError", "compile_filter"]
