vcl 4.1;
# Varnish in front of the newsroom app, and the load balancer over its app servers. The
# app says what may be cached and for how long (Cache-Control: public, s-maxage,
# stale-while-revalidate, stale-if-error) and tags every public answer with
# Surrogate-Key; this file adds only what Varnish needs: staff pages and signed-in users
# pass through, a PURGE bans a surrogate key, requests go round-robin to the app servers
# that answer their probe, and a read whose server does not answer is retried on another.
#
# Filling it in: the block between "BEGIN app servers" and "END app servers" names one
# app server and adds it to the director (Varnish runs every vcl_init in order). With
# one server, replace BACKEND_PORT (and the host if the app runs elsewhere). With
# several, repeat the block once per server with its own name (app1, app2, ...), host
# and port, and add each server's address to the purgers acl: every server sends purges.
# The probe asks as "localhost": put your site's name there (the app answers only names
# in ALLOWED_HOSTS). The harness (tests/production) fills in one server and two.

import directors;

# Whether a server's app answers: a page it makes without the database or Redis. Not
# /healthz, which checks those too: every server shares them, so a Redis outage would
# take all servers out at once, when the app would have served from the database.
# X-Forwarded-Proto, because the app redirects plain HTTP (see SECURE_PROXY_SSL_HEADER).
probe app_answers {
    .request =
        "GET /robots.txt HTTP/1.1"
        "Host: localhost"
        "X-Forwarded-Proto: https"
        "Connection: close";
    .interval = 1s;
    .timeout = 1s;
    .window = 3;
    .threshold = 2;
    .initial = 2;
}

sub vcl_init {
    new servers = directors.round_robin();
}

# BEGIN app servers
backend app1 {
    .host = "127.0.0.1";
    .port = "BACKEND_PORT";
    .probe = app_answers;
    .connect_timeout = 1s;
    .first_byte_timeout = 10s;
}
sub vcl_init {
    servers.add_backend(app1);
}
# END app servers

acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    set req.backend_hint = servers.backend();
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
    # A reader's question form carries a CSRF token and posts with its cookie: never
    # cached, and the cookie must reach the app.
    if (req.url ~ "^/stories/[^/]+/ask/") {
        return (pass);
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

sub vcl_backend_error {
    # A server that stopped since its last probe refuses the connection: ask the next
    # one. Only reads: a form's body is not kept to be sent twice.
    if ((bereq.method == "GET" || bereq.method == "HEAD") && bereq.retries < 3) {
        return (retry);
    }
}

sub vcl_deliver {
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}
