#!/bin/sh
# Chef Infra client bootstrap, written by ctxgen (template `chef-client.sh`).
# Installs the client when the image has none (the `chef` package of a configured
# repository), registers the node with the validator key and applies the run list
# once (a failure fails the boot step), then deletes the validator key: the node has
# its own key from now on. Every template value below is rendered shell-quoted.
set -eu
PATH=/opt/chef/bin:/opt/cinc/bin:$PATH
export PATH
if ! command -v chef-client >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y chef
  else
    dnf install -y chef
  fi
fi
set -- --once --config /etc/chef/client.rb --json-attributes /etc/chef/first-boot.json
{% if license %}
set -- "$@" --chef-license {{ license }}
{% endif %}
chef-client "$@"
rm -f /etc/chef/validation.pem
