"""``obrecon simulate``: the subcommand's flags and its run (wired into :mod:`obrecon_pipeline.cli`).

``obrecon simulate [--root DIR] --symbol SYM [--symbol SYM ...] --start YYYY-MM-DD
[--end YYYY-MM-DD] --events N --levels L --seed S [--gzip] [model options]``
"""

from __future__ import annotations

import argparse
import os
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from obrecon_pipeline.errors import ObreconError
from obrecon_pipeline.simulate.day import DayResult, simulate_days
from obrecon_pipeline.simulate.params import ModelParams

PRICE_SCALE = 10_000  #: LOBSTER prices are USD x 10000

# flag -> (ModelParams field, type, help); defaults are ModelParams' own
MODEL_OPTIONS = {
    "--price": ("price", "usd", "opening price, USD"),
    "--tick": ("tick", "usd", "price tick, USD"),
    "--depth": ("depth", int, "limit orders arrive 1..D ticks from the opposite best"),
    "--lambda-k": ("lambda_k", float, "k of the limit order rate lambda(i) = k / i**alpha"),
    "--lambda-alpha": ("lambda_alpha", float, "alpha of lambda(i) = k / i**alpha"),
    "--mu": ("mu", float, "marketable order rate per side"),
    "--theta": ("theta", float, "cancellation rate per resting order"),
    "--hidden": ("hidden", float, "hidden execution rate per side"),
    "--partial": ("partial", float, "probability that a cancellation is partial"),
    "--lot": ("lot", int, "round lot, shares"),
    "--odd-lots": ("odd_lots", float, "probability of an odd-lot order"),
    "--size-tail": ("size_tail", float, "P(m round lots) ~ m**-size_tail"),
    "--max-lots": ("max_lots", int, "largest order, round lots"),
    "--sweep": ("sweep", float, "P(limit K ticks through the opposite best) ~ sweep**K"),
    "--burn-in": ("burn_in", int, "market events before 09:30 (not in the file)"),
}


def _usd(text: str) -> int:
    try:
        value = Decimal(text) * PRICE_SCALE
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not a price in USD") from None
    if value != value.to_integral_value():
        raise argparse.ArgumentTypeError(f"{text!r} has more than 4 decimals (LOBSTER prices are USD x 10000)")
    return int(value)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("simulate", help="write simulated LOBSTER days (with their own book) into the landing zone")
    s.add_argument("--root", type=Path, help="data root (default $OBRECON_DATA_DIR, else ./data)")
    s.add_argument("--symbol", action="append", required=True, help="ticker; repeat for several")
    s.add_argument("--start", type=_day, required=True, help="first day, YYYY-MM-DD")
    s.add_argument("--end", type=_day, help="last day (default: --start); weekdays only")
    s.add_argument("--events", type=int, required=True, help="messages per day and symbol (exactly)")
    s.add_argument("--levels", type=int, required=True, help="LOBSTER level L: messages touching the best L levels")
    s.add_argument("--seed", type=int, required=True, help="run seed (each day and symbol derives its own)")
    s.add_argument("--gzip", action="store_true", help="write .csv.gz (deflate level 1)")
    defaults = ModelParams()
    model = s.add_argument_group("model (Cont, Stoikov & Talreja 2010; see obrecon_pipeline/simulate/params.py)")
    for flag, (field, kind, text) in MODEL_OPTIONS.items():
        default = getattr(defaults, field)
        shown = f"{Decimal(default) / PRICE_SCALE}" if kind == "usd" else default
        model.add_argument(flag, dest=field, type=_usd if kind == "usd" else kind, help=f"{text} (default {shown})")


def _print_day(r: DayResult) -> None:
    print(f"{r.day} {r.symbol} L{r.levels}: {r.messages:,} messages, {r.bytes_written / 1e6:,.1f} MB -> "
          f"{r.message_file} (+ orderbook) in {r.seconds:.2f} s, {r.events_per_s:,.0f} events/s", flush=True)


def run(args: argparse.Namespace) -> int:
    overrides = {field: getattr(args, field) for field, _, _ in MODEL_OPTIONS.values() if getattr(args, field) is not None}
    params = ModelParams(**overrides)
    root = args.root if args.root is not None else Path(os.environ.get("OBRECON_DATA_DIR", "data"))
    results = simulate_days(root, args.symbol, args.start, args.end, events=args.events, levels=args.levels,
                            seed=args.seed, params=params, compress=args.gzip, on_day=_print_day)
    if not results:
        raise ObreconError(f"no weekday from {args.start} to {args.end or args.start}")
    return 0
