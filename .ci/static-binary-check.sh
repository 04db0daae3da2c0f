#!/usr/bin/env bash
# Checks what the Dockerfile builds, without docker (docker build cannot run
# on the CI machines):
#  1. builds the binary exactly as the Dockerfile does (CGO_ENABLED=0,
#     -trimpath, -tags timetzdata, stripped) and checks it is static;
#  2. runs it the way the image does: as uid 65532 (distroless's nonroot),
#     with the image's environment (HOTLINE_DB=/data/hotline.db,
#     HOTLINE_CONFIG=/etc/hotline/hotline.yaml, read-only), TZ unset and
#     ZONEINFO pointing nowhere. As root (CI) it runs inside a chroot that
#     holds nothing but the binary, the config and /data — no
#     /usr/share/zoneinfo, no /etc/passwd, no shell, like the image — so the
#     example config's time zones prove tzdata is embedded. Elsewhere it runs
#     as the current user from an empty directory.
# The working directory is the root (/ in the chroot) rather than the
# image's WORKDIR /data: stricter, since a relative path would then fail the
# closing "wrote nowhere but /data" check instead of landing on the volume.
# It runs `hotline check`, then `hotline serve`, polls /healthz and /readyz,
# runs `hotline healthcheck` as the image's HEALTHCHECK does, stops the
# server with SIGTERM and checks it wrote nowhere but /data.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

fail() { echo "static-binary-check: FAIL: $*" >&2; exit 1; }
note() { echo "static-binary-check: $*"; }

# The build line must stay the Dockerfile's, byte for byte.
build_flags='-trimpath -tags timetzdata -ldflags="-s -w"'
grep -qF "CGO_ENABLED=0" Dockerfile || fail "the Dockerfile no longer builds with CGO_ENABLED=0; update this script with it"
grep -qF "go build $build_flags -o /out/hotline ./cmd/hotline" Dockerfile ||
	fail "the Dockerfile's go build line is not 'go build $build_flags -o /out/hotline ./cmd/hotline'; update this script with it"

work=$(mktemp -d)
chmod 0755 "$work" # the non-root user must reach the directories inside
server_pid=
cleanup() {
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		kill -KILL "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

echo "== build (as the Dockerfile): CGO_ENABLED=0 go build $build_flags"
bin=$work/hotline
CGO_ENABLED=0 go build -trimpath -tags timetzdata -ldflags="-s -w" -o "$bin" ./cmd/hotline
note "$(du -h "$bin" | cut -f1) $(go version "$bin" | cut -d' ' -f2-)"

echo "== static"
info=$(go version -m "$bin")
grep -qE '^[[:space:]]*build[[:space:]]+CGO_ENABLED=0$' <<<"$info" || fail "go version -m does not show CGO_ENABLED=0:"$'\n'"$info"
grep -qE '^[[:space:]]*build[[:space:]]+-tags=timetzdata$' <<<"$info" || fail "go version -m does not show -tags=timetzdata:"$'\n'"$info"
note "go version -m: CGO_ENABLED=0, -tags=timetzdata"
if command -v readelf >/dev/null 2>&1; then
	headers=$(readelf -lW "$bin") || fail "readelf cannot read $bin"
	if grep -q 'INTERP' <<<"$headers"; then
		fail "the binary has a program interpreter (it is dynamically linked):"$'\n'"$(grep -A1 INTERP <<<"$headers")"
	fi
	grep -q 'DYNAMIC' <<<"$headers" && fail "the binary has a DYNAMIC segment (it needs shared libraries)"
	note "readelf: no INTERP, no DYNAMIC: static"
else
	note "readelf not installed: skipping the ELF check (go version -m says CGO_ENABLED=0)"
fi

# The image's file system: the binary, the config (read-only) and /data,
# owned by the user hotline runs as.
uid=65532
root=$work/root
mkdir -p "$root/etc/hotline" "$root/data" "$root/tmp"
cp "$bin" "$root/hotline"
cp examples/hotline.yaml "$root/etc/hotline/hotline.yaml"
chmod 0555 "$root/etc/hotline"
chmod 0444 "$root/etc/hotline/hotline.yaml"
chmod 1777 "$root/tmp"

# in_image runs hotline as the image would, with hotline_args and any extra
# VAR=value arguments; image paths are under $prefix. It execs, so call it
# only in a subshell: $(in_image) or in_image &, whose $! is then hotline.
image_env=(TWILIO_AUTH_TOKEN=static-binary-check-token ZONEINFO=/nonexistent/zoneinfo)
if [ "$(id -u)" = 0 ]; then
	chown "$uid:$uid" "$root/data"
	# env -i clears PATH too: the tools are named by their full paths.
	chroot=$(command -v chroot || true)
	setpriv=$(command -v setpriv || true)
	if [ -n "$chroot" ] && env -i "$chroot" --userspec="$uid:$uid" "$root" /hotline help >/dev/null 2>&1; then
		mode=chroot
		prefix=
		in_image() { exec env -i "${image_env[@]}" "$@" "$chroot" --userspec="$uid:$uid" "$root" /hotline "${hotline_args[@]}"; }
	elif [ -n "$setpriv" ]; then
		mode=setpriv
		prefix=$root
		in_image() { exec env -i -C "$root" "${image_env[@]}" "$@" "$setpriv" --reuid="$uid" --regid="$uid" --clear-groups ./hotline "${hotline_args[@]}"; }
		note "chroot is missing or not permitted here: running as uid $uid from an empty directory instead (the host's /usr/share/zoneinfo stays visible)"
	else
		fail "running as root but neither chroot nor setpriv works: cannot drop to a non-root user"
	fi
else
	mode=user
	prefix=$root
	uid=$(id -u)
	in_image() { exec env -i -C "$root" "${image_env[@]}" "$@" ./hotline "${hotline_args[@]}"; }
	note "not root: running as uid $uid from an empty directory (the host's /usr/share/zoneinfo stays visible)"
fi
db=$prefix/data/hotline.db
config=$prefix/etc/hotline/hotline.yaml
image_env+=(HOTLINE_DB="$db" HOTLINE_CONFIG="$config")
before=$(cd "$root" && find . -path ./data -prune -o -print | sort)

echo "== hotline check ($mode, uid $uid, TZ unset, ZONEINFO=/nonexistent/zoneinfo)"
hotline_args=(check --config "$config")
out=$(in_image 2>&1) || fail "hotline check on the example config:"$'\n'"$out"
note "check: ok ($(grep -c '^gap ' <<<"$out" || true) coverage gaps listed)"

echo "== hotline serve"
hotline_args=(serve --addr 127.0.0.1:0)
in_image >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
addr=
for _ in $(seq 100); do
	addr=$(sed -n 's|^hotline: listening on http://\([^ ]*\).*|\1|p' "$work/serve.out")
	[ -n "$addr" ] && break
	kill -0 "$server_pid" 2>/dev/null || fail "hotline serve exited:"$'\n'"$(cat "$work/serve.out" "$work/serve.err")"
	sleep 0.1
done
[ -n "$addr" ] || fail "hotline serve did not say where it listens within 10 s:"$'\n'"$(cat "$work/serve.out" "$work/serve.err")"
note "serving on $addr"

# Poll with the host-side copy of the binary: curl may be missing.
for path in /healthz /readyz; do
	ok=
	for _ in $(seq 50); do
		if "$bin" healthcheck --url "http://$addr$path" >/dev/null 2>&1; then
			ok=1
			break
		fi
		sleep 0.1
	done
	[ -n "$ok" ] || fail "GET $path did not answer 200 within 5 s:"$'\n'"$("$bin" healthcheck --url "http://$addr$path" 2>&1)"$'\n'"$(cat "$work/serve.err")"
	note "GET $path: 200"
done

echo "== hotline healthcheck (as the image's HEALTHCHECK)"
hotline_args=(healthcheck --url "http://$addr/healthz")
out=$(in_image 2>&1) || fail "hotline healthcheck --url:"$'\n'"$out"
note "healthcheck --url: $out"
# The Dockerfile's HEALTHCHECK passes no flags: the URL comes from HOTLINE_ADDR.
hotline_args=(healthcheck)
out=$(in_image HOTLINE_ADDR="$addr" 2>&1) || fail "hotline healthcheck with HOTLINE_ADDR=$addr:"$'\n'"$out"
note "healthcheck (HOTLINE_ADDR=$addr): $out"

echo "== SIGTERM"
kill -TERM "$server_pid"
for _ in $(seq 150); do
	kill -0 "$server_pid" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$server_pid" 2>/dev/null && fail "hotline serve still running 15 s after SIGTERM"
status=0
wait "$server_pid" || status=$?
server_pid=
[ "$status" = 0 ] || fail "hotline serve exited $status after SIGTERM:"$'\n'"$(cat "$work/serve.err")"
note "stopped cleanly"

[ -s "$root/data/hotline.db" ] || fail "no database at /data/hotline.db"
after=$(cd "$root" && find . -path ./data -prune -o -print | sort)
[ "$before" = "$after" ] || fail "hotline wrote outside /data (a read-only root file system would break it):"$'\n'"$(diff <(echo "$before") <(echo "$after") || true)"
owner=$(stat -c %u "$root/data/hotline.db")
[ "$owner" = "$uid" ] || fail "/data/hotline.db is owned by uid $owner, want $uid"
note "wrote only /data ($(cd "$root/data" && ls | tr '\n' ' ')), as uid $uid"
echo "static-binary-check: ok"
