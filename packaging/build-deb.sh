#!/usr/bin/env bash
# Build sysward_<version>_<arch>.deb with plain dpkg-deb (no debhelper):
# a self-contained virtualenv in /opt/sysward on Debian's python3, the systemd
# units, sysusers/tmpfiles snippets, the default config (a conffile), the
# packaged roles, and man pages rendered from the real argparse parsers.
#
#   packaging/build-deb.sh [OUT_DIR]     (default: dist/; prints the .deb path)
#
# Needs: Debian's python3 with python3-venv and python3-dev, gcc, pkg-config and
# libsystemd-dev (systemd-python is compiled), dpkg-dev, and a package index for pip.
set -euo pipefail
umask 022

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT_DIR=$(realpath -m "${1:-$ROOT/dist}")
# Debian's interpreter, never a pyenv or /usr/local one: the installed venv runs on it.
BASE_PYTHON=${BASE_PYTHON:-/usr/bin/python3}
PREFIX=/opt/sysward

fail() { echo "build-deb: $*" >&2; exit 1; }

check_base_python() {
    [ -x "$BASE_PYTHON" ] || fail "$BASE_PYTHON not found; install Debian's python3"
    dpkg -S "$(readlink -f "$BASE_PYTHON")" >/dev/null 2>&1 ||
        fail "$BASE_PYTHON is not from a Debian package; the .deb must run on Debian's python3"
    "$BASE_PYTHON" -c 'import sys, venv; sys.exit(sys.version_info < (3, 11))' ||
        fail "$BASE_PYTHON is older than 3.11 or lacks venv (apt-get install python3-venv)"
    PY_MINOR=$("$BASE_PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
}

read_version() {
    local version
    version=$("$BASE_PYTHON" -c 'import sys, tomllib
print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' "$ROOT/pyproject.toml")
    # PEP 440 pre-releases sort before the release in Debian only with a tilde.
    VERSION=$(echo "$version" | sed -E 's/\.?(a|b|rc|dev)([0-9]+)/~\1\2/')
    ARCH=$(dpkg --print-architecture)
}

build_venv() {
    local venv=$STAGE$PREFIX src=$WORK/src
    # A copy of the sources (src/sysward/roles is a link to roles/: -L copies the files),
    # so building never writes build/ or *.egg-info into the checkout.
    mkdir -p "$src"
    cp -rL "$ROOT/pyproject.toml" "$ROOT/README.md" "$ROOT/src" "$src/"
    find "$src" \( -name __pycache__ -o -name '*.egg-info' \) -prune -exec rm -rf {} +
    "$BASE_PYTHON" -m venv "$venv"
    "$venv/bin/python" -m pip wheel -qq --no-deps --wheel-dir "$WORK/wheel" "$src"
    local wheel
    wheel=$(echo "$WORK"/wheel/sysward-*.whl)
    "$venv/bin/python" -m pip install -qq --no-compile "${wheel}[systemd]"
    "$venv/bin/python" "$ROOT/packaging/manpage.py" "$WORK/man" >/dev/null
    # pip and setuptools are not needed at run time; the venv is replaced, never pip-managed.
    "$venv/bin/python" -m pip uninstall --quiet --yes pip setuptools
    rm -rf "$venv"/lib/python3*/site-packages/sysward-*.dist-info/direct_url.json
}

relocate_venv() {
    local venv=$STAGE$PREFIX site
    site=$(echo "$venv"/lib/python3*/site-packages)
    # Roles are data: they live in /usr/share, where the daemon finds them through this link.
    mkdir -p "$STAGE/usr/share/sysward"
    mv "$site/sysward/roles" "$STAGE/usr/share/sysward/roles"
    ln -s /usr/share/sysward/roles "$site/sysward/roles"
    # The venv was made under the staging dir; scripts and pyvenv.cfg must name /opt/sysward.
    grep -rlI --null "$STAGE" "$venv" | xargs -0 --no-run-if-empty sed -i "s#$STAGE##g"
    find "$venv" -name __pycache__ -prune -exec rm -rf {} +
    # Hash-checked bytecode: valid whatever mtimes dpkg gives the sources, and
    # compiled now so Python never writes untracked files under /opt as root.
    "$venv/bin/python" -m compileall -q -j 0 --invalidation-mode checked-hash \
        -s "$STAGE" -p / "$venv/lib"
    if grep -rl --binary-files=text "$STAGE" "$venv" >&2; then
        fail "files above still name the staging dir $STAGE"
    fi
}

install_files() {
    install -d "$STAGE/usr/bin" "$STAGE/usr/lib/systemd/system" "$STAGE/usr/lib/sysusers.d" \
        "$STAGE/usr/lib/tmpfiles.d" "$STAGE/etc/sysward/roles" "$STAGE/usr/share/doc/sysward" \
        "$STAGE/usr/share/man/man1" "$STAGE/usr/share/man/man8"
    ln -s "$PREFIX/bin/syswardd" "$STAGE/usr/bin/syswardd"
    ln -s "$PREFIX/bin/sysward" "$STAGE/usr/bin/sysward"
    install -m 0644 "$ROOT/systemd/sysward.service" "$ROOT/systemd/sysward.socket" \
        "$STAGE/usr/lib/systemd/system/"
    install -m 0644 "$ROOT/systemd/sysusers.d/sysward.conf" "$STAGE/usr/lib/sysusers.d/"
    install -m 0644 "$ROOT/systemd/tmpfiles.d/sysward.conf" "$STAGE/usr/lib/tmpfiles.d/"
    install -m 0644 "$ROOT/packaging/sysward.toml" "$STAGE/etc/sysward/sysward.toml"
    install -m 0644 "$ROOT/packaging/debian/copyright" "$ROOT/README.md" "$ROOT/docs/install.md" \
        "$STAGE/usr/share/doc/sysward/"
    # The runbooks are scripts operators run from cron or by hand: ship them ready to run.
    install -d "$STAGE/usr/share/sysward/runbooks"
    install -m 0755 "$ROOT"/docs/runbooks/*.sh "$STAGE/usr/share/sysward/runbooks/"
    chmod 0644 "$STAGE/usr/share/sysward/runbooks/lib.sh"
    install -m 0644 "$ROOT"/docs/runbooks/*.md "$STAGE/usr/share/sysward/runbooks/"
    gzip -9n -c "$WORK/man/man1/sysward.1" >"$STAGE/usr/share/man/man1/sysward.1.gz"
    gzip -9n -c "$WORK/man/man8/syswardd.8" >"$STAGE/usr/share/man/man8/syswardd.8.gz"
}

write_control() {
    local debian=$STAGE/DEBIAN next_minor
    install -d "$debian"
    install -m 0755 "$ROOT/packaging/debian/postinst" "$ROOT/packaging/debian/prerm" \
        "$ROOT/packaging/debian/postrm" "$debian/"
    echo /etc/sysward/sysward.toml >"$debian/conffiles"
    # The venv holds extensions built for this python3 minor version only.
    next_minor="${PY_MINOR%.*}.$((${PY_MINOR#*.} + 1))"
    cat >"$debian/control" <<CONTROL
Package: sysward
Version: $VERSION
Architecture: $ARCH
Maintainer: ${DEBFULLNAME:-sysward developers} <${DEBEMAIL:-sysward@localhost}>
Installed-Size: $(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
Depends: python3 (>= $PY_MINOR), python3 (<< $next_minor), libsystemd0
Recommends: systemd, jq
Section: admin
Priority: optional
Description: durable LLM agent daemon for Linux servers
 sysward runs LLM agents that inspect and administer this machine through
 typed tools (bash, files, processes, network, systemd, D-Bus, udev), with a
 policy checked before every tool call, operator approvals, and every step
 written first to a signed, hash-chained event log, so a restart never
 repeats a side effect. syswardd is the daemon; sysward the control CLI.
CONTROL
}

main() {
    command -v dpkg-deb >/dev/null || fail "dpkg-deb not found (apt-get install dpkg)"
    check_base_python
    read_version
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/sysward-deb.XXXXXX")
    trap 'rm -rf "$WORK"' EXIT
    STAGE=$WORK/root
    build_venv
    relocate_venv
    install_files
    write_control
    mkdir -p "$OUT_DIR"
    local deb=$OUT_DIR/sysward_${VERSION}_${ARCH}.deb
    dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$deb" >/dev/null
    echo "$deb"
}

main "$@"
