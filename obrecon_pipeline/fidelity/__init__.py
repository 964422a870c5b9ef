"""Fidelity statistics: are the reconstructed book's microstructure facts the real ones?

:mod:`.ljung_box`, :mod:`.hill`, :mod:`.garch` estimate stylized facts of returns;
:mod:`.compare` measures a rebuilt book against a reference book; :mod:`.thresholds` holds the
pass/fail limits; :mod:`.verdict` the result type; :mod:`.evaluate` runs everything for one
partition. No Dagster import.
"""
