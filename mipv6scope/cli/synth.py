"""`mipv6scope synth`: write a generated scenario capture and its truth file."""

from __future__ import annotations

import sys

import click

from ..safe_text import visible
from ..synth.engine import LINKTYPES, VANTAGES, CaptureOptions
from ..synth.scenarios import SCENARIOS, ScenarioParams


def _share(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise click.BadParameter(f"must be between 0 and 1, not {value}")
    return value


@click.command()
@click.argument("scenario", metavar="SCENARIO", type=click.Choice(sorted(SCENARIOS)))
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False),
              help="Capture file to write; the truth goes to FILE.truth.json.")
@click.option("--seed", default=1, show_default=True, type=int,
              help="Random seed: the same command and seed write the same bytes.")
@click.option("--linktype", default="ethernet", show_default=True, type=click.Choice(list(LINKTYPES)))
@click.option("--format", "fmt", default="pcap", show_default=True, type=click.Choice(["pcap", "pcapng"]))
@click.option("--vlan", type=click.IntRange(0, 4095), help="802.1Q tag on every frame (Ethernet only).")
@click.option("--snaplen", default=65535, show_default=True, type=click.IntRange(64, 262144),
              help="Cut frames to this many bytes (original length kept).")
@click.option("--esp", type=click.Choice(["null"]),
              help="Carry home BU/BA in ESP transport mode with NULL encryption.")
@click.option("--vantage", default="all", show_default=True, type=click.Choice(list(VANTAGES)),
              help="Which probe's view: every packet once, or the MN's, HA's or CN's link.")
@click.option("--mobile-nodes", type=click.IntRange(min=1), help="fleet: mobile nodes.")
@click.option("--home-agents", type=click.IntRange(min=1), help="fleet: home agents.")
@click.option("--correspondents", type=click.IntRange(min=1), help="fleet: correspondents.")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), help="fleet: seconds of capture.")
@click.option("--handoff-rate", type=click.FloatRange(min=0), help="fleet: handoffs per MN per second.")
@click.option("--loss", type=float, callback=_share, help="Probability a packet is lost (0-1).")
@click.option("--ro-share", type=float, callback=_share, help="Share of MN-CN pairs using route optimisation (0-1).")
@click.option("--esp-share", type=float, callback=_share, help="Share of MNs protecting signalling with ESP (0-1).")
@click.option("--data-rate", type=click.FloatRange(min=0), help="fleet: data packets per second per MN.")
@click.option("--force", is_flag=True, help="Replace FILE and FILE.truth.json if they exist.")
def synth(scenario: str, out: str, seed: int, linktype: str, fmt: str, vlan: int | None,
          snaplen: int, esp: str | None, vantage: str, force: bool, **scale: float | int | None) -> None:
    """Generate SCENARIO's capture and its truth file (FILE.truth.json).

    \b
    Scenarios: handoff, route-optimization, recovery, fleet, malformed.
    Options not given keep the scenario's defaults; small scenarios ignore
    the fleet options.

    Both files are written to a temporary file and renamed when complete
    (nothing half-written on failure); an existing FILE or FILE.truth.json is
    replaced only with --force, and a symlink at either is always refused.

    Exit codes: 0 ok, 1 a file could not (or may not) be written, 2 usage.
    """
    from ..outfile import OutputRefused
    from ..synth.run import check_outputs, run_scenario

    if vlan is not None and linktype != "ethernet":
        raise click.UsageError("--vlan needs --linktype ethernet")
    options = CaptureOptions(linktype=linktype, fmt=fmt, vlan=vlan, snaplen=snaplen,
                             vantage=vantage, esp_null=esp == "null")
    given = {k: v for k, v in scale.items() if v is not None}
    params = ScenarioParams(seed=seed, options=options, **given)
    try:
        check_outputs(out, force)  # before the (possibly long) generation
        frames, truth = run_scenario(scenario, params, out)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("mipv6scope.synth.scenarios."):
            click.echo(f"mipv6scope synth: scenario {scenario!r} is not available in this build", err=True)
            sys.exit(1)
        raise
    except OutputRefused as exc:
        click.echo(f"mipv6scope synth: {visible(str(exc.filename))} {exc.strerror}", err=True)
        sys.exit(1)
    except OSError as exc:
        click.echo(f"mipv6scope synth: cannot write {visible(out)}: {exc.strerror or exc}", err=True)
        sys.exit(1)
    click.echo(f"{frames} frames written to {visible(out)}, truth in {visible(str(truth))}")
