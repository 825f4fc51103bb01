"""Great Expectations imported without executing scipy.stats (quality/gx_speed.py `scipy_stats_when_used`): no suite
here uses it, and a use still gets scipy's own module. In a fresh interpreter, since the test process may have
imported GX already."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

CHECK = """
import json, sys
from school_improvement.quality.suites import _gx
gx = _gx()
deferred = "scipy.stats._stats_py" not in sys.modules  # the module scipy.stats's own functions live in
from scipy import stats
import scipy
answer = {"deferred": deferred, "has_suite": hasattr(gx, "ExpectationSuite"),
          "entropy": float(stats.entropy([0.5, 0.5], [0.25, 0.75])), "same_module": scipy.stats is stats,
          "kstest": callable(stats.kstest), "loaded_on_use": "scipy.stats._stats_py" in sys.modules}
print(json.dumps(answer))
"""


@pytest.mark.slow  # a subprocess importing Great Expectations (over test-fast's CPU budget)
def test_gx_imported_without_scipy_stats_which_loads_in_full_on_first_use():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "include"), str(REPO / "plugins")]),
           "GX_ANALYTICS_ENABLED": "False"}
    out = subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True, text=True, check=True)
    answer = json.loads(out.stdout.strip().splitlines()[-1])
    assert answer["deferred"], "importing GX executed scipy.stats"
    assert answer["has_suite"] and answer["same_module"] and answer["kstest"] and answer["loaded_on_use"]
    # scipy's own entropy: sum p log(p/q) = 0.5 log 2 + 0.5 log(2/3)
    assert abs(answer["entropy"] - 0.14384103622589045) < 1e-12
