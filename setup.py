"""Packages: dltoolkit, and the repository's apps/ and tuning/ folders under
the distribution's own name (dltoolkit.apps, dltoolkit.tuning), so nothing
installs a generic top-level ``apps`` or ``tuning`` into site-packages while
``python -m apps.NAME`` and ``python -m tuning`` keep working in a clone.
Everything else is in setup.cfg."""

from setuptools import find_packages, setup

MAPPED = {"apps": "dltoolkit.apps", "tuning": "dltoolkit.tuning"}

packages = find_packages(include=["dltoolkit", "dltoolkit.*"])
for folder, name in MAPPED.items():
    packages += [
        name + sub[len(folder) :]
        for sub in find_packages(include=[folder, f"{folder}.*"])
    ]

setup(
    packages=packages,
    package_dir={name: folder for folder, name in MAPPED.items()},
)
