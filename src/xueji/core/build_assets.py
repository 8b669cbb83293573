"""Fetch the front-end libraries from the npm registry and copy their builds into static files.

htmx comes with django-htmx; ECharts is installed with npm at build time, never committed.
"""

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
VENDOR = ROOT / "src" / "xueji" / "static" / "vendor"
FILES = {"echarts/dist/echarts.min.js": "echarts.min.js"}


def main() -> None:
    if all((VENDOR / target).exists() for target in FILES.values()):
        return
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=ROOT, check=True
    )
    VENDOR.mkdir(parents=True, exist_ok=True)
    for source, target in FILES.items():
        shutil.copyfile(ROOT / "node_modules" / source, VENDOR / target)
        print(f"copied {target}")


if __name__ == "__main__":
    main()
