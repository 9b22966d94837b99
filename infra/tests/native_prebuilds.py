"""The builder's cache of native npm addons, so a clean `npm ci` does not compile SQLite each time.

better-sqlite3 installs with `prebuild-install || node-gyp rebuild`: a CI builder downloads the
prebuilt binary from the GitHub release, and the Dockerfile's slim deps stage relies on that.
This network cannot reach GitHub, so every clean install here compiled SQLite from source
(about two of the three minutes `npm ci` took on two cores). prebuild-install looks first in
`$npm_config_<package>_local_prebuilds` for the very file it would download; this module keeps
the addon a compile produced there, packed as that release file, in the test cache. It is
seeded from the project's own `npm ci` (`make install`, which compiled the addon once already)
and from every image build. A later clean install then takes a real builder's path:
prebuild-install unpacks the file and loads it before accepting it, and still compiles when it
is missing or does not load. Only addons this machine compiled from the same version, Node ABI,
platform and architecture are reused: the file name prebuild-install asks for encodes them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tarfile
from collections.abc import Mapping
from pathlib import Path

__all__ = ["keep_compiled_addons", "local_prebuilds_env"]

#: The release file prebuild-install would download for the package in the current directory.
_RELEASE_FILE_JS = """
const path = require('path');
const pkg = require(path.resolve('package.json'));
const from = {paths: [process.cwd()]};
const rc = require(require.resolve('prebuild-install/rc', from))(pkg);
const util = require(require.resolve('prebuild-install/util', from));
process.stdout.write(path.basename(util.getDownloadUrl({...rc, pkg})));
"""


def _packages_with_install_scripts(lock: Path) -> list[str]:
    packages: dict[str, dict[str, object]] = json.loads(lock.read_text()).get("packages", {})
    return sorted(
        key.rsplit("node_modules/", 1)[1] for key, entry in packages.items() if key and entry.get("hasInstallScript")
    )


def _env_prefix(package: str) -> str:
    """prebuild-install's per-package setting prefix (`getEnvPrefix` in its util.js)."""
    return "npm_config_" + re.sub(r"^_", "", re.sub(r"[^a-zA-Z0-9]", "_", package))


def local_prebuilds_env(lock: Path, cache: Path) -> dict[str, str]:
    """The settings that point prebuild-install at `cache` for every package in `lock` with an
    install script (a package that does not use prebuild-install never reads its variable)."""
    return {f"{_env_prefix(name)}_local_prebuilds": str(cache) for name in _packages_with_install_scripts(lock)}


def keep_compiled_addons(project: Path, cache: Path, env: Mapping[str, str]) -> list[Path]:
    """Pack each addon that `npm ci` in `project` compiled (prebuild-install's fallback) into
    `cache` as the release file prebuild-install looks for; returns the files it wrote."""
    written: list[Path] = []
    for name in _packages_with_install_scripts(project / "package-lock.json"):
        package = project / "node_modules" / name
        if not (package / "package.json").is_file():
            continue  # not installed there (yet)
        manifest: dict[str, dict[str, str]] = json.loads((package / "package.json").read_text())
        if not manifest.get("scripts", {}).get("install", "").startswith("prebuild-install"):
            continue
        addon = package / "build" / "Release" / f"{re.sub(r'[^a-zA-Z0-9]', '_', name.split('/')[-1])}.node"
        if not (package / "build" / "Makefile").is_file() or not addon.is_file():
            continue  # unpacked from a prebuild (node-gyp writes the Makefile), or no such addon
        release = subprocess.run(
            ["node", "-e", _RELEASE_FILE_JS], cwd=package, env=dict(env), capture_output=True, text=True, check=True
        ).stdout.strip()
        target = cache / release  # replaced: a cached file that was there did not load
        cache.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(addon, arcname=addon.relative_to(package).as_posix())
        partial.rename(target)
        written.append(target)
    return written
