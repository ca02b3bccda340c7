#!/bin/sh
# Installs into a temporary prefix and builds a small agent against the
# installed libautofab with pkg-config, as a user writing their own agent
# would (DESIGN §9).  Fails loudly if any piece is missing.
set -eu
prefix=$(mktemp -d /tmp/autofab-install.XXXXXX)
trap 'rm -rf "$prefix"' EXIT
${MAKE:-make} --no-print-directory -s install PREFIX="$prefix" >/dev/null
for f in bin/autofab bin/autofab-broker bin/autofab-twin lib/libautofab.a lib/libautofab.so \
         include/autofab/af_agent.h include/autofab/envelope.pb-c.h \
         share/autofab/proto/envelope.proto lib/pkgconfig/autofab.pc \
         share/autofab/factories/gigafactory.yaml; do
    [ -e "$prefix/$f" ] || { echo "install-check: $f was not installed" >&2; exit 1; }
done
cat > "$prefix/agent.c" <<'EOC'
#include <af_agent.h>
int main (void)
{
    af_agent_opts_t opts = { .name = "external", .kind = "example" };
    char err[128];
    af_agent_t *agent = af_agent_new (&opts, err, sizeof err);
    int ok = agent != NULL;
    af_agent_destroy (&agent);
    return ok && agent == NULL ? 0 : 1;
}
EOC
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
# shellcheck disable=SC2046
cc -std=gnu11 -Wall -Werror -o "$prefix/agent" "$prefix/agent.c" $(pkg-config --cflags --libs autofab) \
   -Wl,-rpath,"$prefix/lib"
"$prefix/agent"
# The static archive, with its dependencies linked as shared libraries.
# shellcheck disable=SC2046
cc -std=gnu11 -o "$prefix/agent-static" "$prefix/agent.c" $(pkg-config --cflags autofab) \
   "$prefix/lib/libautofab.a" $(pkg-config --libs libzmq libczmq libprotobuf-c libsodium yaml-0.1 sqlite3) -lm -lpthread
"$prefix/agent-static"
echo "install-check: make install PREFIX=... gives a working libautofab (shared and static) and pkg-config file"
