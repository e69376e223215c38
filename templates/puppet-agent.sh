#!/bin/sh
# Puppet agent bootstrap, written by ctxgen (template `puppet-agent.sh`).
# Installs the agent (the distribution's or a configured Puppet repository's package),
# points it at the server, enrols it (one `puppet agent --test` run: a failure fails
# the boot step), then enables the agent service. Every template value below is
# rendered shell-quoted; values appear in command positions only.
set -eu
if ! command -v puppet >/dev/null 2>&1 && ! [ -x /opt/puppetlabs/bin/puppet ]; then
  if command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y puppet-agent || apt-get install -y puppet
  else
    dnf install -y puppet-agent || dnf install -y puppet
  fi
fi
PATH=/opt/puppetlabs/bin:$PATH
export PATH
puppet config set --section agent server {{ server }}
puppet config set --section agent environment {{ environment }}
{% if certname %}
puppet config set --section main certname {{ certname }}
{% endif %}
{% if csr_attributes %}
puppet config set --section main csr_attributes /etc/puppetlabs/puppet/csr_attributes.yaml
{% endif %}
# --test: one run in the foreground; exit 2 means "changes applied", also a success.
# The certificate must be signed within 15 minutes (autosigning: at once).
status=0
puppet agent --test --waitforcert 30 --maxwaitforcert 900 || status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 2 ]; then
  echo "ctxgen: the first puppet agent run failed (exit $status)" >&2
  exit 1
fi
systemctl enable --now puppet.service
