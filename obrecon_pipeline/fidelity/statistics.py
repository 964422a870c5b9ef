"""The statistics of one book's interval returns that the fidelity rules compare: Ljung-Box on
squared returns, the Hill tail index and a GARCH(1,1) fit (each None where n was too small)."""

from __future__ import annotations

from dataclasses import dataclass

from obrecon_pipeline.fidelity.garch import Garch11
from obrecon_pipeline.fidelity.hill import HillEstimate
from obrecon_pipeline.fidelity.ljung_box import LjungBox


@dataclass(frozen=True)
class ReturnStatistics:
    n: int  #: returns
    n_nonzero: int
    ljung_box: list[LjungBox] | None
    hill: HillEstimate | None
    garch: Garch11 | None

    def estimates(self, lags: tuple[int, ...], prefix: str = "") -> dict[str, float | None]:
        """The estimates under fixed column names (null where n was too small)."""
        lb = {r.lag: r for r in self.ljung_box or []}
        h, g = self.hill, self.garch
        out: dict[str, float | None] = {"n_returns": self.n, "n_nonzero_returns": self.n_nonzero}
        for lag in lags:
            out[f"lb_q_{lag}"] = lb[lag].statistic if lag in lb else None
            out[f"lb_p_{lag}"] = lb[lag].p_value if lag in lb else None
        out.update({
            "hill_alpha": h.alpha if h else None, "hill_se": h.se if h else None, "hill_k": h.k if h else None,
            "garch_omega": g.omega if g else None, "garch_alpha": g.alpha if g else None,
            "garch_beta": g.beta if g else None, "garch_persistence": g.persistence if g else None,
            "garch_converged": float(g.converged) if g else None, "garch_scale": g.scale if g else None,
        })
        return {prefix + k: (None if v is None else float(v)) for k, v in out.items()}
