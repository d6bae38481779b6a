//! Who is asking: the client address the login limits count by.
//!
//! It is the TCP peer, unless the peer is one of the configured trusted proxies (the compose
//! file's nginx): then `X-Forwarded-For` is read from the right, skipping trusted proxies, and
//! the first other hop is the client. Hops further left were written by the client itself and
//! prove nothing, so a client cannot choose its address; from an untrusted peer the header is
//! ignored altogether.

use crate::state::ApiState;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use std::future::{Ready, ready};
use std::net::{IpAddr, Ipv4Addr};

/// One trusted network: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    /// `10.0.0.5`, `172.28.0.0/16` or `fd00::/8`.
    fn parse(text: &str) -> Option<Self> {
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text.trim(), None),
        };
        let address: IpAddr = address.parse().ok()?;
        let address = address.to_canonical();
        let bits = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix.parse().ok().filter(|length| *length <= bits)?,
            None => bits,
        };
        Some(Self { address, prefix })
    }

    fn contains(self, candidate: IpAddr) -> bool {
        let shared = |a: u128, b: u128, bits: u8| {
            let unmatched = u32::from(bits - self.prefix);
            a.checked_shr(unmatched).unwrap_or(0) == b.checked_shr(unmatched).unwrap_or(0)
        };
        match (self.address, candidate.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                shared(u128::from(u32::from(net)), u128::from(u32::from(ip)), 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => shared(u128::from(net), u128::from(ip), 128),
            _ => false,
        }
    }
}

/// The proxies whose `X-Forwarded-For` is believed (`server.trusted_proxies`). Empty by default:
/// then the peer address is the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Network>);

impl TrustedProxies {
    /// Parses addresses and CIDR networks (`172.28.0.10`, `10.0.0.0/8`, `fd00::/8`).
    ///
    /// # Errors
    /// The first entry that is neither, as written.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        entries
            .iter()
            .map(|entry| Network::parse(entry.as_ref()).ok_or_else(|| entry.as_ref().to_owned()))
            .collect::<Result<_, _>>()
            .map(Self)
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(address))
    }

    /// The client of a request from `peer` carrying these `X-Forwarded-For` values, in order.
    fn client<'a>(&self, peer: IpAddr, forwarded: impl Iterator<Item = &'a str>) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.trusts(client) {
            return client;
        }
        let hops: Vec<&str> = forwarded.flat_map(|value| value.split(',')).collect();
        for hop in hops.iter().rev() {
            // A hop that is no address was not written by a trusted proxy: the last trusted hop
            // is as far as the chain can be believed.
            let Ok(address) = hop.trim().parse::<IpAddr>() else {
                break;
            };
            client = address.to_canonical();
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

/// The client's address: an extractor, so a handler names it as an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClientAddress(pub IpAddr);

impl FromRequest for ClientAddress {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Only a socket-less request (a unit test) has no peer; it counts as 0.0.0.0.
        let peer = request
            .peer_addr()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |peer| peer.ip());
        let forwarded = request
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|value| value.to_str().ok());
        let client = match request.app_data::<web::Data<ApiState>>() {
            Some(state) => state.trusted_proxies.client(peer, forwarded),
            None => peer,
        };
        ready(Ok(Self(client)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or(IpAddr::V4(Ipv4Addr::BROADCAST))
    }

    fn proxies(entries: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(entries).unwrap_or_default()
    }

    #[test]
    fn parses_addresses_and_networks_and_names_a_bad_entry() {
        let parsed = TrustedProxies::parse(&["10.0.0.0/8", "192.0.2.7", "fd00::/8", "::1"]);
        assert_eq!(parsed.map(|p| p.0.len()), Ok(4));
        for bad in ["10.0.0.0/33", "nginx", "10.0.0.1/x", "::/129", ""] {
            assert_eq!(TrustedProxies::parse(&[bad]), Err(bad.to_owned()));
        }
    }

    #[test]
    fn networks_contain_what_their_prefix_covers() {
        let trusted = proxies(&["172.28.0.0/16", "192.0.2.7", "fd00::/8", "0.0.0.0/0"]);
        assert!(trusted.trusts(ip("172.28.200.1")));
        assert!(trusted.trusts(ip("::ffff:192.0.2.7")));
        assert!(trusted.trusts(ip("fd12::1")));
        assert!(!proxies(&["172.28.0.0/16"]).trusts(ip("172.29.0.1")));
        assert!(!proxies(&["192.0.2.7"]).trusts(ip("192.0.2.8")));
        assert!(!proxies(&["fd00::/8"]).trusts(ip("fe80::1")));
        assert!(proxies(&["0.0.0.0/0"]).trusts(ip("8.8.8.8")));
        assert!(!proxies(&["0.0.0.0/0"]).trusts(ip("2001:db8::1")));
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let trusted = proxies(&["10.0.0.1"]);
        let client = trusted.client(ip("203.0.113.5"), ["198.51.100.1"].into_iter());
        assert_eq!(client, ip("203.0.113.5"));
        let nobody = TrustedProxies::default();
        assert_eq!(
            nobody.client(ip("127.0.0.1"), ["198.51.100.1"].into_iter()),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_hop_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let from = |values: &[&str]| trusted.client(ip("10.0.0.1"), values.iter().copied());
        // The client wrote the left-most hop itself: it is not believed.
        assert_eq!(from(&["6.6.6.6, 203.0.113.5"]), ip("203.0.113.5"));
        assert_eq!(
            from(&["6.6.6.6", "203.0.113.5, 10.0.0.2"]),
            ip("203.0.113.5")
        );
        assert_eq!(from(&["not-an-ip, 203.0.113.5"]), ip("203.0.113.5"));
        assert_eq!(from(&["203.0.113.5, garbage, 10.0.0.2"]), ip("10.0.0.2"));
        assert_eq!(from(&["10.0.0.3"]), ip("10.0.0.3"));
        assert_eq!(from(&[]), ip("10.0.0.1"));
    }
}
