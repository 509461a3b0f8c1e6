#!/bin/bash
# refit test bed: real servers on loopback, each in its own temp dir, each
# stopped by its own pid (never by name). Sourced by integration tests and
# benchmarks; also usable by hand:
#
#   tests/testbed/testbed.sh up      # starts everything, prints the addresses,
#                                    # waits until Ctrl-C, then stops it all
#
# Functions (after `. tests/testbed/testbed.sh; tb_init`):
#   tb_dockerd [NAME]     private dockerd: $TB_DOCKER_SOCK, $TB_DOCKER_HOST
#                         (TB_DOCKERD_TLS=1: also on tcp://127.0.0.1:port with --tlsverify,
#                         certificates from tb_tls_ca / tb_tls_cert: $TB_DOCKER_TLS_HOST and
#                         $TB_TLS (its dir: ca.pem, client.pem, client-key.pem));
#                         TB_DOCKERD_DEBUG=1: --debug, its log (NAME/dockerd.log) names every
#                         API call ("Calling POST /v1.41/build?...")
#   tb_sshd               Debian's sshd on a loopback port, its own host key, one authorized
#                         client key allowed only to forward unix sockets (ssh -N -L):
#                         $TB_SSH_HOST (ssh://root@127.0.0.1:port), $TB_SSH_PORT,
#                         $TB_SSH_KEY, $TB_SSH_KNOWN_HOSTS, $TB_SSHD_PID
#   tb_relay PATH / tb_tcprelay HOST:PORT [PORT]  an engine that can be taken away (relays)
#   tb_tls_ca DIR NAME    a CA made with openssl: DIR/NAME.pem, DIR/NAME-key.pem
#   tb_tls_cert DIR CA NAME server|client [SAN]  a certificate signed by CA
#   tb_registry [auth|token]  docker-registry on a free port: $TB_REGISTRY (host:port);
#                         "auth": htpasswd basic auth, user $TB_REG_USER / $TB_REG_PASS;
#                         "token": Bearer tokens from tokenserver.py ($TB_TOKEN_URL),
#                         same user; anonymous pulls allowed under public/
#   tb_httpd ROOT         static HTTP server for feed mirrors: $TB_HTTP (http://127.0.0.1:port)
#   tb_base_image REPO:TAG   FROM scratch + static busybox, pushed to $TB_REGISTRY
#   tb_base_move REPO:TAG    a new layer on that base, pushed: its digest moves
#   tb_digest REPO:TAG       the manifest digest the registry serves for it
#   tb_cleanup            stops everything (installed as an EXIT trap by tb_init)
#
# Safe to run several at once: random ports, private dirs, private sockets.

TB_PIDS=()

tb_log() { echo "testbed: $*" >&2; }

tb_init() {
	TB_DIR=$(mktemp -d /tmp/refit-tb.XXXXXX) || return 1
	chmod 755 "$TB_DIR"
	# docker login writes here, not to the invoking user's ~/.docker
	export DOCKER_CONFIG=$TB_DIR/docker-config
	trap tb_cleanup EXIT
	trap 'exit 130' INT TERM
}

tb_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits up to $2 seconds for the command $1 to succeed.
tb_wait() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		eval "$1" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	tb_log "timed out waiting for: $1"
	return 1
}

# tb_dockerd [NAME]: NAME (default docker) is its directory under TB_DIR; a second one
# with another name is a separate engine with a cold cache.
tb_dockerd() {
	local d=$TB_DIR/${1:-docker} tls=()
	mkdir -p "$d"
	TB_DOCKER_SOCK=$d/docker.sock
	TB_DOCKER_HOST=unix://$TB_DOCKER_SOCK
	if [ "${TB_DOCKERD_TLS:-0}" = 1 ]; then
		TB_TLS=$d/tls
		mkdir -p "$TB_TLS"
		tb_tls_ca "$TB_TLS" ca || return 1
		tb_tls_cert "$TB_TLS" ca server server IP:127.0.0.1 || return 1
		tb_tls_cert "$TB_TLS" ca client client || return 1
		TB_DOCKER_TLS_HOST=tcp://127.0.0.1:$(tb_free_port)
		tls=(--host "$TB_DOCKER_TLS_HOST" --tlsverify --tlscacert "$TB_TLS/ca.pem"
			--tlscert "$TB_TLS/server.pem" --tlskey "$TB_TLS/server-key.pem")
	fi
	# exec-root must be short: containerd's socket path lives under it.
	dockerd --host "$TB_DOCKER_HOST" "${tls[@]}" --data-root "$d/data" --exec-root "$d/x" \
		--pidfile "$d/dockerd.pid" --iptables=false --ip-masq=false --bridge=none \
		--storage-driver=overlay2 ${TB_DOCKERD_DEBUG:+--debug} >"$d/dockerd.log" 2>&1 &
	TB_PIDS+=($!)
	TB_DOCKERD_PID=$!
	if ! tb_wait "curl -sf --unix-socket '$TB_DOCKER_SOCK' http://d/_ping" 60; then
		tail -20 "$d/dockerd.log" >&2
		return 1
	fi
	if [ ${#tls[@]} -gt 0 ] && ! tb_wait "curl -sf --cacert '$TB_TLS/ca.pem' \
		--cert '$TB_TLS/client.pem' --key '$TB_TLS/client-key.pem' \
		https://${TB_DOCKER_TLS_HOST#tcp://}/_ping" 30; then
		tail -20 "$d/dockerd.log" >&2
		return 1
	fi
	export DOCKER_HOST=$TB_DOCKER_HOST
}

# tb_sshd: an sshd for ssh:// engines (see the header). The client key may only forward
# (restrict,port-forwarding; no session: the forced command is /bin/false); refitd reaches
# an engine's socket with ssh -N -L. OpenSSH 9.2 lets a unix socket be forwarded only where
# local TCP forwarding is allowed too (AllowTcpForwarding local: with it off, or with a
# permitopen= or PermitOpen list, sshd denies the streamlocal channel as well).
tb_sshd() {
	local d=$TB_DIR/sshd port
	mkdir -p "$d" /run/sshd
	port=$(tb_free_port)
	ssh-keygen -q -t ed25519 -N '' -C refit-test-host -f "$d/host_key" &&
		ssh-keygen -q -t ed25519 -N '' -C refit-test-client -f "$d/client_key" ||
		{ tb_log "ssh-keygen failed"; return 1; }
	printf 'restrict,port-forwarding,command="/bin/false" %s\n' \
		"$(cat "$d/client_key.pub")" >"$d/authorized_keys"
	chmod 600 "$d/authorized_keys"
	printf '[127.0.0.1]:%s %s\n' "$port" "$(cut -d' ' -f1,2 "$d/host_key.pub")" \
		>"$d/known_hosts"
	cat >"$d/sshd_config" <<-EOF
		Port $port
		ListenAddress 127.0.0.1
		HostKey $d/host_key
		AuthorizedKeysFile $d/authorized_keys
		PidFile $d/sshd.pid
		StrictModes no
		UsePAM no
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		AllowTcpForwarding local
		AllowStreamLocalForwarding local
		PermitListen none
		X11Forwarding no
		PermitTTY no
	EOF
	/usr/sbin/sshd -D -e -f "$d/sshd_config" >"$d/sshd.log" 2>&1 &
	TB_PIDS+=($!)
	TB_SSH_HOST=ssh://root@127.0.0.1:$port
	TB_SSH_PORT=$port
	TB_SSHD_PID=$!
	TB_SSH_KEY=$d/client_key
	TB_SSH_KNOWN_HOSTS=$d/known_hosts
	tb_wait "ssh-keyscan -p $port 127.0.0.1" 20 || { cat "$d/sshd.log" >&2; return 1; }
}

# tb_tls_ca DIR NAME: a self-signed CA (EC P-256, 1 day): DIR/NAME.pem, DIR/NAME-key.pem.
tb_tls_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -noenc -days 1 \
		-subj "/CN=refit test $2" -keyout "$1/$2-key.pem" -out "$1/$2.pem" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
		>/dev/null 2>&1 || { tb_log "openssl: CA $2 failed"; return 1; }
}

# tb_tls_cert DIR CA NAME server|client [SAN] [DAYS]: DIR/NAME.pem, DIR/NAME-key.pem
# signed by DIR/CA.pem, valid DAYS (default 1).
tb_tls_cert() {
	local d=$1 ca=$2 n=$3 use=serverAuth ext
	[ "$4" = client ] && use=clientAuth
	ext="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=$use${5:+
subjectAltName=$5}"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -noenc \
		-subj "/CN=refit test $n" -keyout "$d/$n-key.pem" -out "$d/$n.csr" >/dev/null 2>&1 &&
		openssl x509 -req -in "$d/$n.csr" -CA "$d/$ca.pem" -CAkey "$d/$ca-key.pem" \
			-CAcreateserial -days "${6:-1}" -extfile <(echo "$ext") -out "$d/$n.pem" \
			>/dev/null 2>&1 || { tb_log "openssl: certificate $n failed"; return 1; }
	chmod 600 "$d/$n-key.pem"
}

# Starts tokenserver.py in $1 (a registry dir); sets $TB_TOKEN_URL.
tb_tokenserver() {
	local d=$1
	/usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/tokenserver.py" --port-file "$d/token.port" \
		--cert "$d/token.pem" --user "$TB_REG_USER" --password "$TB_REG_PASS" \
		>"$d/token.log" 2>&1 &
	TB_PIDS+=($!)
	tb_wait "test -s '$d/token.port'" 30 || { cat "$d/token.log" >&2; return 1; }
	TB_TOKEN_URL=http://127.0.0.1:$(cat "$d/token.port")
}

# tb_podman: Podman's Docker-compatible service on a private socket, root and
# runroot: $TB_PODMAN_HOST. The test registries (plain HTTP on loopback) are
# marked insecure in a private registries.conf.
tb_podman() {
	local d=$TB_DIR/podman
	mkdir -p "$d"
	printf '[[registry]]\nlocation = "127.0.0.1"\ninsecure = true\n' >"$d/registries.conf"
	for r in ${TB_REGISTRY:-}; do
		printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$r" >>"$d/registries.conf"
	done
	# Podman raises RLIMIT_NOFILE in containers to 1048576 by default, which a
	# sandbox with a lower hard limit refuses: keep the service's own limits.
	printf '[containers]\ndefault_ulimits = []\n' >"$d/containers.conf"
	CONTAINERS_CONF=$d/containers.conf CONTAINERS_REGISTRIES_CONF=$d/registries.conf \
		podman --root "$d/root" --runroot "$d/run" \
		--cgroup-manager=cgroupfs system service --time 0 "unix://$d/podman.sock" \
		>"$d/service.log" 2>&1 &
	TB_PIDS+=($!)
	TB_PODMAN_HOST=unix://$d/podman.sock
	tb_wait "curl -sf --unix-socket '$d/podman.sock' http://p/_ping" 30 ||
		{ tail -20 "$d/service.log" >&2; return 1; }
}

tb_registry() {
	local port auth="" d
	d=$(mktemp -d "$TB_DIR/registry.XXXX")
	port=$(tb_free_port)
	TB_REGISTRY=127.0.0.1:$port
	TB_REG_USER=refit
	TB_REG_PASS=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
	case "${1:-}" in
	auth)
		htpasswd -Bbn "$TB_REG_USER" "$TB_REG_PASS" >"$d/htpasswd" 2>/dev/null
		auth="auth:
  htpasswd:
    realm: refit-test
    path: $d/htpasswd"
		;;
	token)
		tb_tokenserver "$d" || return 1
		auth="auth:
  token:
    realm: $TB_TOKEN_URL/token
    service: refit-test-registry
    issuer: refit-testbed
    rootcertbundle: $d/token.pem"
		;;
	esac
	cat >"$d/config.yml" <<-EOF
		version: 0.1
		log:
		  level: warn
		storage:
		  filesystem:
		    rootdirectory: $d/data
		  delete:
		    enabled: true
		http:
		  addr: $TB_REGISTRY
		$auth
	EOF
	docker-registry serve "$d/config.yml" >"$d/registry.log" 2>&1 &
	TB_PIDS+=($!)
	TB_REGISTRY_PID=$!
	tb_wait "curl -s -o /dev/null -w '%{http_code}' http://$TB_REGISTRY/v2/ | grep -qE '200|401'" 30 ||
		{ tail -20 "$d/registry.log" >&2; return 1; }
}

tb_httpd() {
	local pf=$TB_DIR/httpd.port
	rm -f "$pf"
	python3 "$(dirname "${BASH_SOURCE[0]}")/httpd.py" --root "$1" --port-file "$pf" \
		>"$TB_DIR/httpd.log" 2>&1 &
	TB_PIDS+=($!)
	TB_HTTPD_PID=$!
	tb_wait "test -s '$pf'" 20 || return 1
	TB_HTTP=http://127.0.0.1:$(cat "$pf")
}

# tb_faultproxy: a fault-injecting proxy in front of $TB_REGISTRY: $TB_PROXY (host:port);
# `curl "http://$TB_PROXY/_fault?mode=503&count=2"` arms faults (429, 503, drop).
tb_faultproxy() {
	local pf=$TB_DIR/proxy.port
	python3 "$(dirname "${BASH_SOURCE[0]}")/faultproxy.py" --upstream "${1:-$TB_REGISTRY}" \
		--port-file "$pf" >"$TB_DIR/proxy.log" 2>&1 &
	TB_PIDS+=($!)
	tb_wait "test -s '$pf'" 20 || return 1
	TB_PROXY=127.0.0.1:$(cat "$pf")
}

# tb_relay PATH: a unix socket at PATH relaying to the private dockerd, an engine that
# can be taken away (tb_stop_pid $TB_RELAY_PID closes its connections and its socket).
tb_relay() {
	python3 "$(dirname "${BASH_SOURCE[0]}")/unixrelay.py" --listen "$1" --to "$TB_DOCKER_SOCK" \
		>>"$TB_DIR/relay.log" 2>&1 &
	TB_RELAY_PID=$!
	TB_PIDS+=($!)
	tb_wait "test -S '$1'" 20
}

# tb_tcprelay HOST:PORT: the same on a free loopback TCP port relaying to HOST:PORT (a TLS
# engine's: the bytes pass through), $TB_TCPRELAY_PORT and $TB_RELAY_PID; PORT reused when
# given as $2 (an engine that comes back at the same address).
tb_tcprelay() {
	TB_TCPRELAY_PORT=${2:-$(tb_free_port)}
	python3 "$(dirname "${BASH_SOURCE[0]}")/unixrelay.py" --listen "tcp:127.0.0.1:$TB_TCPRELAY_PORT" \
		--to "tcp:$1" >>"$TB_DIR/relay.log" 2>&1 &
	TB_RELAY_PID=$!
	TB_PIDS+=($!)
	tb_wait "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", $TB_TCPRELAY_PORT))'" 20
}

tb_docker() { DOCKER_BUILDKIT=0 docker -H "$TB_DOCKER_HOST" "$@"; }

# Builds REPO:TAG from scratch + busybox-static and pushes it to $TB_REGISTRY.
tb_base_image() {
	local ctx=$TB_DIR/base-ctx
	rm -rf "$ctx"
	mkdir -p "$ctx"
	cp /bin/busybox "$ctx/busybox"
	cat >"$ctx/Dockerfile" <<-'EOF'
		FROM scratch
		COPY busybox /bin/busybox
		RUN ["/bin/busybox", "--install", "-s", "/bin"]
		RUN mkdir -p /etc /tmp && echo 'root:x:0:0:root:/root:/bin/sh' > /etc/passwd \
		 && echo 'nobody:x:65534:65534:nobody:/nonexistent:/bin/sh' >> /etc/passwd \
		 && printf 'root:x:0:\nnogroup:x:65534:\n' > /etc/group
		CMD ["/bin/sh"]
	EOF
	tb_docker build -q -t "$TB_REGISTRY/$1" "$ctx" >/dev/null &&
		tb_docker push "$TB_REGISTRY/$1" >/dev/null
}

# Adds a layer with fresh content on top of REPO:TAG and pushes it: a new digest.
tb_base_move() {
	local ctx=$TB_DIR/move-ctx
	rm -rf "$ctx"
	mkdir -p "$ctx"
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$ctx/patch-level"
	printf 'FROM %s\nCOPY patch-level /etc/patch-level\n' "$TB_REGISTRY/$1" >"$ctx/Dockerfile"
	tb_docker build -q -t "$TB_REGISTRY/$1" "$ctx" >/dev/null &&
		tb_docker push "$TB_REGISTRY/$1" >/dev/null
}

tb_digest() {
	local repo=${1%:*} tag=${1##*:}
	curl -sI -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		-H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
		-H 'Accept: application/vnd.oci.image.index.v1+json' \
		"http://$TB_REGISTRY/v2/$repo/manifests/$tag" |
		tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p'
}

# tb_index REPO:TAG REPO_A:TAG_A REPO_B:TAG_B: pushes an OCI index whose
# linux/amd64 entry is A and linux/arm64/v8 entry is B (both must be in the
# registry already; they are copied into REPO, since an index may only name
# manifests of its own repository; the registry does not check platforms).
tb_index() {
	local repo=${1%:*} tag=${1##*:} a=$2 b=$3 body
	tb_docker tag "$TB_REGISTRY/$a" "$TB_REGISTRY/$repo:part-a" &&
		tb_docker tag "$TB_REGISTRY/$b" "$TB_REGISTRY/$repo:part-b" &&
		tb_docker push "$TB_REGISTRY/$repo:part-a" >/dev/null &&
		tb_docker push "$TB_REGISTRY/$repo:part-b" >/dev/null || return 1
	body=$(python3 - "$TB_REGISTRY" "$repo:part-a" "$repo:part-b" <<-'PY'
		import json, sys, urllib.request
		reg, a, b = sys.argv[1:]
		def desc(ref, arch, variant=None):
		    repo, tag = ref.rsplit(":", 1)
		    req = urllib.request.Request("http://%s/v2/%s/manifests/%s" % (reg, repo, tag), method="HEAD",
		        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"})
		    r = urllib.request.urlopen(req)
		    p = {"architecture": arch, "os": "linux"}
		    if variant: p["variant"] = variant
		    return {"mediaType": r.headers["Content-Type"], "digest": r.headers["Docker-Content-Digest"],
		            "size": int(r.headers["Content-Length"]), "platform": p}
		print(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
		    "manifests": [desc(a, "amd64"), desc(b, "arm64", "v8")]}))
	PY
	) || return 1
	curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.index.v1+json' \
		--data-binary "$body" "http://$TB_REGISTRY/v2/$repo/manifests/$tag" >/dev/null
}

tb_stop_pid() {
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 150; i++)); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

tb_cleanup() {
	local pid cpid i
	set +e
	[ -n "${TB_DIR:-}" ] || return 0
	# The containerd that dockerd started: by its pid file, in case dockerd dies first.
	cpid=$(cat "$TB_DIR"/*/x/containerd/containerd.pid 2>/dev/null)
	for ((i = ${#TB_PIDS[@]} - 1; i >= 0; i--)); do
		tb_stop_pid "${TB_PIDS[$i]}"
	done
	for pid in $cpid; do tb_stop_pid "$pid"; done
	# dockerd and podman leave overlay and netns mounts when killed hard.
	grep -o " $TB_DIR[^ ]*" /proc/mounts 2>/dev/null | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null
	done
	[ -n "${TB_KEEP:-}" ] && { tb_log "kept $TB_DIR"; return 0; }
	rm -rf "$TB_DIR"
	TB_DIR=
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -eu
	case "${1:-}" in
	up)
		tb_init
		tb_dockerd
		tb_registry
		mkdir -p "$TB_DIR/feeds"
		tb_httpd "$TB_DIR/feeds"
		tb_base_image refit-test/base:1
		cat <<-EOF
			DOCKER_HOST=$TB_DOCKER_HOST
			REGISTRY=$TB_REGISTRY   (base image: $TB_REGISTRY/refit-test/base:1 $(tb_digest refit-test/base:1))
			FEEDS=$TB_HTTP  (serving $TB_DIR/feeds)
			dir=$TB_DIR   -- Ctrl-C stops everything
		EOF
		while sleep 3600; do :; done
		;;
	serve)
		# serve ENVFILE COMPONENT...: for test programs. Starts the components
		# (dockerd dockerd-tls registry registry-auth httpd base), writes KEY=VALUE lines
		# to ENVFILE, then waits; SIGTERM to this shell's pid stops everything.
		envfile=$2
		shift 2
		tb_init
		trap 'exit 0' TERM
		out="TB_DIR=$TB_DIR"
		for c in "$@"; do
			case $c in
			dockerd) tb_dockerd; out="$out
TB_DOCKER_HOST=$TB_DOCKER_HOST" ;;
			dockerd-tls) TB_DOCKERD_TLS=1 tb_dockerd; out="$out
TB_DOCKER_HOST=$TB_DOCKER_HOST
TB_DOCKER_TLS_HOST=$TB_DOCKER_TLS_HOST
TB_TLS=$TB_TLS" ;;
			registry) tb_registry; out="$out
TB_REGISTRY=$TB_REGISTRY" ;;
			registry-auth) saved=${TB_REGISTRY:-}; tb_registry auth; out="$out
TB_AUTH_REGISTRY=$TB_REGISTRY
TB_REG_USER=$TB_REG_USER
TB_REG_PASS=$TB_REG_PASS"; TB_REGISTRY=$saved ;;
			registry-token) saved=${TB_REGISTRY:-}; tb_registry token; out="$out
TB_TOKEN_REGISTRY=$TB_REGISTRY
TB_TOKEN_URL=$TB_TOKEN_URL
TB_TOKEN_USER=$TB_REG_USER
TB_TOKEN_PASS=$TB_REG_PASS"; TB_REGISTRY=$saved ;;
			httpd) mkdir -p "$TB_DIR/www"; tb_httpd "$TB_DIR/www"; out="$out
TB_HTTP=$TB_HTTP" ;;
			faultproxy) tb_faultproxy; out="$out
TB_PROXY=$TB_PROXY" ;;
			base) tb_base_image refit-test/base:1; out="$out
TB_BASE=$TB_REGISTRY/refit-test/base:1" ;;
			*) tb_log "unknown component $c"; exit 2 ;;
			esac
		done
		printf '%s\n' "$out" >"$envfile.tmp" && mv "$envfile.tmp" "$envfile"
		while :; do sleep 1; done
		;;
	*)
		echo "usage: $0 up | serve ENVFILE COMPONENT..." >&2
		exit 2
		;;
	esac
fi
