# bash completion for refitctl(1). Installed as
# /usr/share/bash-completion/completions/refitctl (make install, the .deb).
#
# Commands and options come from refitctl's usage; project names are asked of
# the running refitd (`refitctl projects`, one local request, 2 s at most),
# with the --url/--config/--token-file already typed on the line.

_refitctl_projects()
{
	local -a client=()
	local i
	for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
		case ${COMP_WORDS[i]} in
		--url | --config | --token-file) client+=("${COMP_WORDS[i]}" "${COMP_WORDS[i + 1]}") ;;
		esac
	done
	# The table's project rows are those whose first column is not blank.
	timeout 2 refitctl projects "${client[@]}" 2>/dev/null | awk 'NR > 1 && /^[^ ]/ { print $1 }'
}

_refitctl()
{
	local cur prev words cword cmd i
	_init_completion || return

	local commands="ref bases vercmp ignore lint scan status projects builds rebuild rollback logs help"
	local client_opts="--url --token-file --config --json --help"

	cmd=
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		--url | --token-file | --config) ((i++)) ;;
		-*) ;;
		*) cmd=${words[i]} && break ;;
		esac
	done

	case $prev in
	--url) return ;;
	--token-file | --config | --inventory | --os-release | --dockerfile)
		_filedir
		return
		;;
	--feed | --context)
		_filedir -d
		return
		;;
	--project)
		mapfile -t COMPREPLY < <(compgen -W "$(_refitctl_projects)" -- "$cur")
		return
		;;
	--status)
		mapfile -t COMPREPLY < <(compgen -W "queued running succeeded failed skipped interrupted" -- "$cur")
		return
		;;
	--builder)
		mapfile -t COMPREPLY < <(compgen -W "buildkit-0.8 buildkit podman classic" -- "$cur")
		return
		;;
	--env | --limit | --before | --build-arg | --target | --platform) return ;;
	esac

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$client_opts --version" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur")
		fi
		return
	fi

	local opts=
	case $cmd in
	status | logs) opts=$client_opts ;;
	projects | rebuild | rollback)
		opts=$client_opts
		if [[ $cur != -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$(_refitctl_projects)" -- "$cur")
			return
		fi
		;;
	builds) opts="$client_opts --project --env --status --limit --before" ;;
	bases)
		opts="--build-arg --target --platform --json"
		[[ $cur != -* ]] && _filedir && return
		;;
	lint)
		opts="--context --builder"
		[[ $cur != -* ]] && _filedir && return
		;;
	ignore)
		opts="--dockerfile"
		[[ $cur != -* ]] && _filedir -d && return
		;;
	scan) opts="--inventory --os-release --feed --json" ;;
	vercmp)
		if [[ $cur != -* && $((cword - i)) == 1 ]]; then
			mapfile -t COMPREPLY < <(compgen -W "debian ubuntu alpine pypi" -- "$cur")
			return
		fi
		;;
	ref) ;;
	esac
	[[ -n $opts ]] && mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
}
complete -F _refitctl refitctl
