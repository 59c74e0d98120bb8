#!/bin/sh
# The services' entrypoint, as the official postgres and redis images do it: started as root,
# it only makes the parts of the storage root this service writes ($MOVIE_R_OWNS under
# $MOVIE_R_HOME) and gives them to the service user, then drops to that user for good
# (setpriv, util-linux) and runs the command. Started as any other user, it runs the command
# as that user directly.
#
# The service user: MOVIE_R_UID[:MOVIE_R_GID] when set; else the owner of the first owned
# directory when that is not root (a storage root the operator made keeps its owner); else
# the image's own user, movie_r (10001). `as-service` (this script under another name) drops
# the same way without touching any file: the healthchecks and `movie-r` in `docker exec` use it.
set -eu

SERVICE_UID=10001
SERVICE_GID=10001

service_user() {
    if [ -n "${MOVIE_R_UID:-}" ]; then
        uid=$MOVIE_R_UID
        gid=${MOVIE_R_GID:-$MOVIE_R_UID}
        return
    fi
    first=$MOVIE_R_HOME/${MOVIE_R_OWNS%% *}
    if [ -e "$first" ] && [ "$(stat -c %u "$first")" != 0 ]; then
        uid=$(stat -c %u "$first")
        gid=$(stat -c %g "$first")
    else
        uid=$SERVICE_UID
        gid=$SERVICE_GID
    fi
}

own_storage() {
    for part in $MOVIE_R_OWNS; do
        dir=$MOVIE_R_HOME/$part
        mkdir -p "$dir"
        # only what is not the service user's already: a large home is changed once, not at every start
        find "$dir" \( ! -user "$uid" -o ! -group "$gid" \) -exec chown -h "$uid:$gid" {} +
    done
}

drop() {
    if getent passwd "$uid" >/dev/null; then groups=--init-groups; else groups=--clear-groups; fi
    exec setpriv --reuid="$uid" --regid="$gid" "$groups" --inh-caps=-all -- "$@"
}

if [ "$(id -u)" != 0 ]; then
    exec "$@"
fi
service_user
if [ "$uid" = 0 ]; then
    echo "movie_r: refusing to run as root (MOVIE_R_UID=0); give another uid" >&2
    exit 1
fi
if [ "$(basename "$0")" != as-service ]; then
    own_storage
fi
drop "$@"
