//! Mirroring every peer, once or for as long as the node runs.

use std::sync::Arc;
use std::time::Duration;

use crate::node::{MirrorError, Mirrored, Node};
use crate::peer::{HttpPeer, PeerError};
use crate::store::Store;

/// An HTTP client for every other party's node.
pub fn http_peers<S: Store>(node: &Node<S>) -> Result<Vec<HttpPeer>, PeerError> {
    let network = node.network();
    network
        .parties
        .iter()
        .filter(|p| p.name != node.party())
        .map(|p| {
            HttpPeer::new(
                &p.name,
                &network.origin(&p.name),
                &p.url,
                node.origin(),
                node.signing_key().clone(),
                node.clock_handle(),
            )
        })
        .collect()
}

/// Mirrors each peer once, in order; one result per peer.
pub async fn mirror_all<S: Store>(
    node: &Node<S>,
    peers: &[HttpPeer],
) -> Vec<(String, Result<Mirrored, MirrorError>)> {
    let mut results = Vec::new();
    for peer in peers {
        use crate::peer::Peer as _;
        results.push((peer.party().to_owned(), node.mirror(peer).await));
    }
    results
}

/// Mirrors every peer every `every`, backing off (doubling, up to `max_backoff`) from a
/// peer that fails, until `stop` resolves.
pub async fn mirror_forever<S: Store>(
    node: Arc<Node<S>>,
    peers: Vec<HttpPeer>,
    every: Duration,
    max_backoff: Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    use crate::peer::Peer as _;
    let mut waits: Vec<Duration> = peers.iter().map(|_| Duration::ZERO).collect();
    let mut due: Vec<tokio::time::Instant> =
        peers.iter().map(|_| tokio::time::Instant::now()).collect();
    tokio::pin!(stop);
    loop {
        let next = due
            .iter()
            .min()
            .copied()
            .unwrap_or_else(tokio::time::Instant::now);
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep_until(next) => {}
        }
        let now = tokio::time::Instant::now();
        for ((peer, wait), at) in peers.iter().zip(waits.iter_mut()).zip(due.iter_mut()) {
            if *at > now {
                continue;
            }
            match node.mirror(peer).await {
                Ok(m) => {
                    if m.to_size > m.from_size {
                        tracing::info!(origin = %m.origin, from = m.from_size, to = m.to_size, "mirrored");
                    }
                    *wait = every;
                }
                Err(e) => {
                    *wait = (*wait * 2).clamp(every, max_backoff);
                    tracing::warn!(peer = peer.party(), error = %e, retry_in_ms = wait.as_millis() as u64, "mirroring failed");
                }
            }
            *at = tokio::time::Instant::now() + *wait;
        }
    }
}
