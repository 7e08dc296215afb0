"""kubectl as an independent client of the test cluster, for the tests that use it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

#: Where kubectl is; tests skip without it.
KUBECTL = shutil.which("kubectl")


def kubectl(
    kubeconfig: Path, *args: str, check: bool = True, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run kubectl against ``kubeconfig``; ``check`` turns a non-zero exit into a failure."""
    assert KUBECTL is not None
    cache = kubeconfig.parent / "kube-cache"
    result = subprocess.run(
        [KUBECTL, "--kubeconfig", str(kubeconfig), "--cache-dir", str(cache), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr}")
    return result
