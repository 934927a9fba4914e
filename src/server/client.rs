//! Who sent a request: the client's IP address and whether it came over HTTPS. The one
//! place that reads `Forwarded` (RFC 7239) and `X-Forwarded-For` / `X-Forwarded-Proto`,
//! and only from the peers `fymo.yml` lists in `trusted_proxies`; every per-client
//! decision (live admission, secure cookies, the CSRF origin check, the access log) uses
//! its answer.

use std::net::IpAddr;

use axum::http::HeaderMap;

/// The client of a request, as far as the connection and trusted proxies tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Client {
    /// Its address (none over a Unix socket without a trusted proxy's word).
    pub(crate) ip: Option<IpAddr>,
    /// Whether it reached the site over HTTPS (Fymo speaks plain HTTP: only a trusted
    /// proxy can say so).
    pub(crate) https: bool,
}

/// One hop a proxy reported: the address it received the request from, and the scheme.
#[derive(Debug, Default, Clone, Copy)]
struct Hop {
    ip: Option<IpAddr>,
    https: Option<bool>,
}

/// The client of a request that arrived from `peer` with `headers`.
///
/// Hops are read right to left (the nearest proxy writes last): the client is the first
/// address that is not a trusted proxy, or the farthest one reported when all are.
pub(crate) fn client_of(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpAddr]) -> Client {
    let is_trusted = |ip: Option<IpAddr>| ip.is_some_and(|ip| trusted.contains(&ip));
    let mut client = Client { ip: peer, https: false };
    // Over a Unix socket the peer is the proxy in front (nothing else can connect).
    if !(is_trusted(peer) || peer.is_none() && !trusted.is_empty()) {
        return client;
    }
    let hops = forwarded_hops(headers);
    let Some(last) = hops.last() else { return client };
    client.https = last.https.unwrap_or(false);
    for hop in hops.iter().rev() {
        let Some(ip) = hop.ip else { break }; // `unknown` or obfuscated: nothing farther is known
        client = Client { ip: Some(ip), https: hop.https.unwrap_or(client.https) };
        if !is_trusted(Some(ip)) {
            break;
        }
    }
    client
}

/// The hops of `Forwarded`, else of `X-Forwarded-For` (with `X-Forwarded-Proto`'s
/// scheme on each), nearest last.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Hop> {
    let values = |name: &str| -> Vec<&str> {
        headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).map(str::trim).collect()
    };
    let forwarded = values("forwarded");
    if !forwarded.is_empty() {
        return forwarded.iter().map(|element| forwarded_element(element)).collect();
    }
    // The scheme the farthest proxy saw (the edge that terminated TLS writes it first).
    let https = values("x-forwarded-proto").first().map(|p| p.eq_ignore_ascii_case("https"));
    values("x-forwarded-for").iter().map(|v| Hop { ip: parse_node(v), https }).collect()
}

/// One element of `Forwarded`: `for=192.0.2.60;proto=https;by=203.0.113.43`.
fn forwarded_element(element: &str) -> Hop {
    let mut hop = Hop::default();
    for pair in element.split(';') {
        let Some((key, value)) = pair.split_once('=') else { continue };
        let value = value.trim().trim_matches('"');
        match key.trim().to_ascii_lowercase().as_str() {
            "for" => hop.ip = parse_node(value),
            "proto" => hop.https = Some(value.eq_ignore_ascii_case("https")),
            _ => {}
        }
    }
    hop
}

/// A node: `192.0.2.60`, `192.0.2.60:4711`, `[2001:db8::1]:4711`, `2001:db8::1`;
/// `unknown` and obfuscated names are `None`.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    node.parse().ok().or_else(|| node.rsplit_once(':').and_then(|(ip, _port)| ip.parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        let h = headers(&[("x-forwarded-for", "1.1.1.1"), ("x-forwarded-proto", "https")]);
        assert_eq!(
            client_of(Some(ip("9.9.9.9")), &h, &[ip("10.0.0.1")]),
            Client { ip: Some(ip("9.9.9.9")), https: false }
        );
        assert_eq!(client_of(Some(ip("9.9.9.9")), &h, &[]).ip, Some(ip("9.9.9.9")));
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        let trusted = [ip("10.0.0.1"), ip("10.0.0.2")];
        // A spoofed entry the client sent itself stays to the left of the real one.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 1.2.3.4, 10.0.0.2"), ("x-forwarded-proto", "https")]);
        assert_eq!(client_of(Some(ip("10.0.0.1")), &h, &trusted), Client { ip: Some(ip("1.2.3.4")), https: true });
        // Without a forwarded header the proxy itself is all there is.
        assert_eq!(client_of(Some(ip("10.0.0.1")), &HeaderMap::new(), &trusted).ip, Some(ip("10.0.0.1")));
    }

    #[test]
    fn forwarded_wins_and_is_read_per_element() {
        let trusted = [ip("10.0.0.1")];
        let h = headers(&[
            ("forwarded", "for=\"[2001:db8:cafe::17]:4711\";proto=https, for=10.0.0.1;proto=http"),
            ("x-forwarded-for", "7.7.7.7"),
        ]);
        assert_eq!(
            client_of(Some(ip("10.0.0.1")), &h, &trusted),
            Client { ip: Some(ip("2001:db8:cafe::17")), https: true }
        );
        let h = headers(&[("forwarded", "for=192.0.2.60:80;proto=http;by=10.0.0.1")]);
        assert_eq!(client_of(Some(ip("10.0.0.1")), &h, &trusted), Client { ip: Some(ip("192.0.2.60")), https: false });
        // `unknown`: nothing farther than the proxy is known.
        let h = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(client_of(Some(ip("10.0.0.1")), &h, &trusted).ip, Some(ip("10.0.0.1")));
    }

    #[test]
    fn a_unix_socket_peer_is_the_proxy_when_proxies_are_configured() {
        let h = headers(&[("x-forwarded-for", "1.2.3.4")]);
        assert_eq!(client_of(None, &h, &[ip("10.0.0.1")]).ip, Some(ip("1.2.3.4")));
        assert_eq!(client_of(None, &h, &[]).ip, None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        #[test]
        fn any_forwarded_headers_name_a_client_and_never_an_untrusted_peers_word(
            forwarded in "[ -~]{0,48}", xff in "[0-9a-f.:, \\[\\]]{0,48}", trusted_peer in proptest::bool::ANY,
        ) {
            let mut h = HeaderMap::new();
            for (name, value) in [("forwarded", &forwarded), ("x-forwarded-for", &xff)] {
                if let Ok(value) = HeaderValue::from_str(value) {
                    h.insert(name, value);
                }
            }
            let peer = ip(if trusted_peer { "10.0.0.1" } else { "9.9.9.9" });
            let client = client_of(Some(peer), &h, &[ip("10.0.0.1")]);
            if !trusted_peer {
                proptest::prop_assert_eq!(client, Client { ip: Some(peer), https: false });
            }
        }
    }
}
