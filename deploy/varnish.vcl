vcl 4.1;
# Varnish in front of the newsroom app. The app says what may be cached and for how
# long (Cache-Control: public, s-maxage, stale-while-revalidate, stale-if-error) and
# tags every public answer with Surrogate-Key; this file adds only what Varnish needs:
# staff pages and signed-in users pass through, and a PURGE bans a surrogate key.
# The harness (tests/production) and deployments fill in BACKEND_PORT.

backend app {
    .host = "127.0.0.1";
    .port = "BACKEND_PORT";
    .connect_timeout = 1s;
    .first_byte_timeout = 10s;
}

acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(405, "Not allowed"));
        }
        # Keys are slugs and words: letters, digits and hyphens only.
        if (req.http.Surrogate-Key !~ "^[a-z0-9-]+$") {
            return (synth(400, "Bad surrogate key"));
        }
        ban("obj.http.Surrogate-Key ~ (^|\s)" + req.http.Surrogate-Key + "(\s|$)");
        return (synth(200, "Banned"));
    }
    if (req.url ~ "^/(admin|desk|preview|healthz)" || req.http.Cookie ~ "sessionid=") {
        return (pass);
    }
    # Public pages are the same for everyone: a cookie must not split the cache.
    unset req.http.Cookie;
}

sub vcl_backend_response {
    if (beresp.http.Set-Cookie) {
        set beresp.uncacheable = true;
        return (deliver);
    }
    # A failed refresh keeps serving the stale copy (stale-if-error).
    if (beresp.status >= 500 && bereq.is_bgfetch) {
        return (abandon);
    }
    # Keep answers past their lifetime, to serve while refreshing or while the app fails.
    set beresp.grace = 10m;
}

sub vcl_deliver {
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}
