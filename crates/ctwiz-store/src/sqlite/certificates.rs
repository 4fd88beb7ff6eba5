//! SQLite implementation of the SMART Health Card issuer keys (see `crate::certificate`).

use super::codec;
use super::SqliteStore;
use crate::certificate::{ShcKey, ShcKeyStore};
use crate::error::Result;
use crate::sql::params;
use chrono::NaiveDateTime;

fn ts(t: NaiveDateTime) -> String {
    t.format(codec::DATETIME).to_string()
}

impl ShcKeyStore for SqliteStore {
    fn shc_keys(&self) -> Result<Vec<ShcKey>> {
        let mut st = self.conn.prepare_cached(
            "SELECT kid, private_key, public_jwk, created_at, retired_at FROM shc_keys
             ORDER BY created_at DESC, kid",
        )?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<Vec<u8>>(1)?,
                r.get::<String>(2)?,
                r.get::<String>(3)?,
                r.get::<Option<String>>(4)?,
            ))
        })?;
        let mut keys = Vec::new();
        for row in rows {
            let (kid, private_key, public_jwk, created, retired) = row?;
            keys.push(ShcKey {
                kid,
                private_key,
                public_jwk,
                created_at: codec::datetime(&created)?,
                retired_at: retired.as_deref().map(codec::datetime).transpose()?,
            });
        }
        Ok(keys)
    }

    fn add_shc_key(&self, key: &ShcKey, retire_signing: bool) -> Result<bool> {
        self.in_transaction(|s| {
            if retire_signing {
                s.conn
                    .prepare_cached("UPDATE shc_keys SET retired_at = ?1 WHERE retired_at IS NULL")?
                    .execute([ts(key.created_at)])?;
            }
            let added = s
                .conn
                .prepare_cached(
                    "INSERT INTO shc_keys (kid, private_key, public_jwk, created_at, retired_at)
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                )?
                .execute(params![
                    key.kid,
                    key.private_key,
                    key.public_jwk,
                    ts(key.created_at),
                    key.retired_at.map(ts),
                ])?;
            Ok(added == 1)
        })
    }
}
