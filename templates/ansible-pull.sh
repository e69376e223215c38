#!/bin/sh
# ansible-pull bootstrap, written by ctxgen (template `ansible-pull.sh`).
# Runs once at first boot (from runcmd: a failure fails the boot step) and, with
# `schedule`, from ctxgen-ansible-pull.timer. Every template value below is rendered
# shell-quoted by ctxgen; values appear in command positions only, never in comments
# or inside double quotes.
set -eu
umask 077
mkdir -p /var/lib/ctxgen
# One run at a time: the timer may fire while another run is still going.
exec 9>/var/lib/ctxgen/ansible-pull.lock
flock 9
{% if ssh %}
# git over SSH: never prompt; the deploy key (if any); host key checking against the
# system's known hosts (ctxgen appends the spec's `known_hosts` lines there, where
# Ansible's git module also looks).
GIT_SSH_COMMAND='ssh -o BatchMode=yes'
{% if private_key %}
GIT_SSH_COMMAND="$GIT_SSH_COMMAND -i /etc/ctxgen/ansible/deploy-key -o IdentitiesOnly=yes"
{% endif %}
{% if known_hosts %}
GIT_SSH_COMMAND="$GIT_SSH_COMMAND -o StrictHostKeyChecking=yes"
{% else %}
GIT_SSH_COMMAND="$GIT_SSH_COMMAND -o StrictHostKeyChecking=accept-new"
{% endif %}
export GIT_SSH_COMMAND
{% endif %}
set -- --url {{ url }} --directory /var/lib/ctxgen/ansible-pull
{% if private_key %}
set -- "$@" --private-key /etc/ctxgen/ansible/deploy-key
{% endif %}
{% if ssh and not known_hosts %}
set -- "$@" --accept-host-key
{% endif %}
{% if checkout %}
set -- "$@" --checkout {{ checkout }}
{% endif %}
{% if extra_vars %}
set -- "$@" --extra-vars @/etc/ctxgen/ansible/extra-vars.json
{% endif %}
exec ansible-pull "$@" {{ playbook }}
