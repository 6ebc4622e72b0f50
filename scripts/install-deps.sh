#!/bin/sh
# Install every Debian package wtbox needs to build, test, fuzz (clang and
# its libFuzzer runtime, libclang-rt-14-dev on Debian 12) and benchmark.
# Idempotent: packages already present are left as they are. Uses sudo when
# not run as root. Also makes /dev/net/tun usable by every user (mode 0666,
# what udev gives it on a standard distribution; some containers create it
# 0600): `wtbox run --net=private`'s network stack opens it as the user.
set -eu

packages="
build-essential
pkg-config
libgit2-dev
libseccomp-dev
libcap-dev
libcjson-dev
git
util-linux
passwd
procps
python3
clang-format
clang
libclang-rt-14-dev
hyperfine
jq
bubblewrap
tmux
time
bsdutils
slirp4netns
passt
"

if [ "$(id -u)" -eq 0 ]; then
	sudo=""
elif command -v sudo >/dev/null 2>&1; then
	sudo="sudo"
else
	echo "install-deps: run as root or install sudo" >&2
	exit 1
fi

# The tun device: root-only in some containers, which leaves rootless
# network stacks (slirp4netns, pasta, podman's) unable to start.
fix_tun() {
	[ -c /dev/net/tun ] || return 0
	case "$(stat -c %a /dev/net/tun)" in
	666) ;;
	*)
		echo "install-deps: /dev/net/tun to mode 0666 (rootless network stacks open it)"
		$sudo chmod 0666 /dev/net/tun
		;;
	esac
}

missing=""
for p in $packages; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	fix_tun
	exit 0
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086 # the list is meant to split
$sudo apt-get install -y -qq --no-install-recommends $missing
fix_tun
