//! Verifies an identity provider's JWT access tokens the way a resource server does
//! (RFC 9068): an ES256 signature by a key from the issuer's JWKS (found through its
//! OpenID configuration, fetched on first use and again for an unknown `kid`), then
//! `iss`, `aud` and `exp`/`nbf`. ES256 only: it is what the test provider signs with,
//! and ring verifies it with no further crate. Plain `http://` on loopback only, as
//! every test here runs.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use serde_json::Value;

/// What a verified token says about its caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub sub: String,
}

/// An issuer's access-token verifier, with its keys cached by `kid`.
#[derive(Debug)]
pub struct Verifier {
    issuer: String,
    audience: Option<String>,
    keys: tokio::sync::Mutex<HashMap<String, Vec<u8>>>,
}

impl Verifier {
    pub fn new(issuer: String, audience: Option<String>) -> Self {
        Self {
            issuer,
            audience,
            keys: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    /// Whether `token` looks like a JWT at all (so a plain key is not reported as a bad one).
    pub fn is_jwt(token: &str) -> bool {
        token.starts_with("eyJ") && token.split('.').count() == 3
    }

    /// Verifies `token`; the reason when it is not valid.
    pub async fn verify(&self, token: &str) -> Result<Verified, String> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("not a JWT".into());
        };
        let header = decode_json(h).ok_or("unreadable JWT header")?;
        if header["alg"] != "ES256" {
            return Err(format!("unexpected alg {}", header["alg"]));
        }
        let kid = header["kid"].as_str().unwrap_or_default().to_string();
        let signature = b64(s).ok_or("unreadable signature")?;
        let key = self.key(&kid).await?;
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, key)
            .verify(format!("{h}.{p}").as_bytes(), &signature)
            .map_err(|_| "bad signature".to_string())?;
        let claims = decode_json(p).ok_or("unreadable claims")?;
        if claims["iss"] != self.issuer.as_str() {
            return Err(format!("iss {} is not {}", claims["iss"], self.issuer));
        }
        if let Some(aud) = &self.audience {
            let ok = match &claims["aud"] {
                Value::String(a) => a == aud,
                Value::Array(list) => list.iter().any(|a| a == aud.as_str()),
                _ => false,
            };
            if !ok {
                return Err(format!("aud {} is not {aud}", claims["aud"]));
            }
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let exp = claims["exp"].as_u64().ok_or("no exp")?;
        if exp <= now {
            return Err(format!("expired {}s ago", now - exp));
        }
        if claims["nbf"].as_u64().is_some_and(|nbf| nbf > now) {
            return Err("not valid yet".into());
        }
        let sub = claims["sub"].as_str().ok_or("no sub")?.to_string();
        Ok(Verified { sub })
    }

    /// The public key for `kid` (uncompressed P-256 point), fetching the JWKS when the
    /// key is not known yet (the provider may have rotated its keys).
    async fn key(&self, kid: &str) -> Result<Vec<u8>, String> {
        let mut keys = self.keys.lock().await;
        if !keys.contains_key(kid) {
            *keys = self.fetch_keys().await?;
        }
        keys.get(kid)
            .cloned()
            .ok_or_else(|| format!("no key {kid:?} in the issuer's JWKS"))
    }

    async fn fetch_keys(&self) -> Result<HashMap<String, Vec<u8>>, String> {
        let meta = get_json(&format!(
            "{}/.well-known/openid-configuration",
            self.issuer.trim_end_matches('/')
        ))
        .await?;
        let jwks_uri = meta["jwks_uri"].as_str().ok_or("no jwks_uri")?;
        let jwks = get_json(jwks_uri).await?;
        let mut keys = HashMap::new();
        for jwk in jwks["keys"].as_array().ok_or("no keys in the JWKS")? {
            if jwk["kty"] != "EC" || jwk["crv"] != "P-256" {
                continue;
            }
            let (Some(x), Some(y)) = (
                jwk["x"].as_str().and_then(b64),
                jwk["y"].as_str().and_then(b64),
            ) else {
                continue;
            };
            let mut point = vec![0x04];
            point.extend(x);
            point.extend(y);
            keys.insert(jwk["kid"].as_str().unwrap_or_default().to_string(), point);
        }
        Ok(keys)
    }
}

fn b64(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .ok()
}

fn decode_json(s: &str) -> Option<Value> {
    serde_json::from_slice(&b64(s)?).ok()
}

/// `GET url` (plain http on loopback) as JSON.
async fn get_json(url: &str) -> Result<Value, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: the fake gateway fetches only http:// on loopback"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        return Err(format!("{url}: not a loopback address"));
    }
    let stream = tokio::net::TcpStream::connect(authority)
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    tokio::spawn(conn);
    let request = hyper::Request::get(path)
        .header("host", authority)
        .header("accept", "application/json")
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("{url} answered {}", response.status()));
    }
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("{url}: {e}"))?
        .to_bytes();
    serde_json::from_slice(&body).map_err(|e| format!("{url}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
    use serde_json::json;

    /// A one-key issuer on loopback: its OpenID configuration and JWKS.
    async fn issuer(public: Vec<u8>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let enc = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let jwks = json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1",
            "x": enc(&public[1..33]), "y": enc(&public[33..])}]});
        let meta = json!({"issuer": url, "jwks_uri": format!("{url}/jwks")});
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let (jwks, meta) = (jwks.clone(), meta.clone());
                let service = hyper::service::service_fn(move |req: hyper::Request<_>| {
                    let body = if req.uri().path() == "/jwks" {
                        &jwks
                    } else {
                        &meta
                    };
                    let body = http_body_util::Full::new(Bytes::from(body.to_string()));
                    async move { Ok::<_, std::convert::Infallible>(hyper::Response::new(body)) }
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service),
                );
            }
        });
        url
    }

    fn sign(key: &EcdsaKeyPair, header: Value, claims: Value) -> String {
        let enc =
            |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let input = format!("{}.{}", enc(&header), enc(&claims));
        let sig = key.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
        format!(
            "{input}.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sig.as_ref())
        )
    }

    #[tokio::test]
    async fn verifies_signature_issuer_audience_and_expiry() {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let iss = issuer(key.public_key().as_ref().to_vec()).await;
        let v = Verifier::new(iss.clone(), Some("http://gw".into()));
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let header = json!({"alg": "ES256", "typ": "at+jwt", "kid": "k1"});
        let good = json!({"iss": iss, "aud": "http://gw", "sub": "alice", "exp": now + 60});
        let token = sign(&key, header.clone(), good.clone());
        assert!(Verifier::is_jwt(&token));
        assert_eq!(v.verify(&token).await.unwrap().sub, "alice");

        let with = |k: &str, val: Value| {
            let mut c = good.clone();
            c[k] = val;
            sign(&key, header.clone(), c)
        };
        let v = &v;
        let why = |t: String| async move { v.verify(&t).await.unwrap_err() };
        assert!(
            why(with("exp", json!(now - 5)))
                .await
                .starts_with("expired")
        );
        assert!(
            why(with("aud", json!("http://other")))
                .await
                .starts_with("aud")
        );
        assert!(
            why(with("iss", json!("http://evil")))
                .await
                .starts_with("iss")
        );
        let mut forged = token.clone();
        forged.replace_range(token.len() - 4.., "AAAA");
        assert_eq!(why(forged).await, "bad signature");
        let other_kid = sign(&key, json!({"alg": "ES256", "kid": "k2"}), good.clone());
        assert!(why(other_kid).await.contains("no key"));
        let hs256 = sign(&key, json!({"alg": "HS256", "kid": "k1"}), good);
        assert!(why(hs256).await.contains("alg"));
        assert!(!Verifier::is_jwt("sk-plain-key"));
    }
}
