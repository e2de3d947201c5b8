"""What an ingest node's code brings into its process: not the web role's, nor the ONVIF client's.

The memory check that matters (an idle node's RSS, modules of a recording node) is
benchmarks/cluster/node_modules.py; this guards the import graph it depends on."""

from __future__ import annotations

import subprocess
import sys

WEB = ("dash", "plotly", "flask", "flask_socketio")
ONVIF = ("zeep", "onvif", "lxml", "httpx")  # adding cameras by ONVIF address is the web role's, not a node's


def imported_by(module: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", f"import sys, {module}; print(' '.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return {name.split(".")[0] for name in result.stdout.split()}


def test_the_node_imports_neither_the_web_nor_the_onvif_client():
    imported = imported_by("watchwall.roles.node")
    assert "watchwall" in imported and "av" in imported  # it did import the node
    assert not imported & set(WEB)
    assert not imported & set(ONVIF)


def test_adding_cameras_still_brings_the_onvif_client():
    assert {"zeep", "onvif"} <= imported_by("watchwall.cameras.inventory")
