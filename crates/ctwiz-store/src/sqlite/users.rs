use super::codec::{self, stored};
use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::sql::{params, OptionalExtension, Row};
use crate::traits::{Account, UserStore};
use chrono::NaiveDateTime;
use ctwiz_core::access::{AccountStatus, Grant, Role, Scope, User};
use ctwiz_core::ids::{ClinicPin, Email, UserId, Username};
use ctwiz_core::place::Jurisdiction;

fn status_key(s: AccountStatus) -> &'static str {
    match s {
        AccountStatus::Active => "active",
        AccountStatus::Locked => "locked",
        AccountStatus::Disabled => "disabled",
    }
}

fn status_parse(s: &str) -> Result<AccountStatus> {
    Ok(match s {
        "active" => AccountStatus::Active,
        "locked" => AccountStatus::Locked,
        "disabled" => AccountStatus::Disabled,
        other => return Err(StoreError::Corrupt(format!("account status {other:?}"))),
    })
}

fn scope_columns(s: &Scope) -> (&'static str, String) {
    match s {
        Scope::Clinic(p) => ("clinic", p.to_string()),
        // Counties as their bare name (as stored before towns), districts as `hd:NAME`.
        Scope::Jurisdiction(Jurisdiction::County(c)) => ("jurisdiction", c.name().to_string()),
        Scope::Jurisdiction(j) => ("jurisdiction", j.key()),
        Scope::State => ("state", String::new()),
    }
}

const ACCOUNT_COLUMNS: &str =
    "id, username, full_name, email, status, password_hash, must_change_password, failed_sign_ins, last_sign_in, locked_until";

impl SqliteStore {
    fn grants_of(&self, id: i64) -> Result<Vec<Grant>> {
        let mut st = self.conn.prepare_cached(
            "SELECT role, scope_kind, scope_value FROM user_grants WHERE user_id = ?1 ORDER BY rowid",
        )?;
        let mut rows = st.query([id])?;
        let mut out = Vec::new();
        while let Some(ref r) = rows.next()? {
            let role = stored("role", Role::parse(&r.get::<String>(0)?))?;
            let value: String = r.get(2)?;
            let scope = match r.get::<String>(1)?.as_str() {
                "clinic" => Scope::Clinic(stored("clinic PIN", ClinicPin::new(&value))?),
                "jurisdiction" => {
                    Scope::Jurisdiction(stored("jurisdiction", Jurisdiction::from_key(&value))?)
                }
                "state" => Scope::State,
                other => return Err(StoreError::Corrupt(format!("grant scope {other:?}"))),
            };
            out.push(stored("grant", Grant::new(role, scope))?);
        }
        Ok(out)
    }

    fn account_from_row(&self, r: &Row<'_>) -> Result<Account> {
        let id: i64 = r.get(0)?;
        let user = User {
            id: Some(UserId(id)),
            username: stored("username", Username::new(&r.get::<String>(1)?))?,
            full_name: r.get(2)?,
            email: stored("email", Email::new(&r.get::<String>(3)?))?,
            grants: self.grants_of(id)?,
            status: status_parse(&r.get::<String>(4)?)?,
        };
        Ok(Account {
            user,
            password_hash: r.get(5)?,
            must_change_password: r.get(6)?,
            failed_sign_ins: r.get(7)?,
            last_sign_in: r
                .get::<Option<String>>(8)?
                .as_deref()
                .map(codec::datetime)
                .transpose()?,
            locked_until: r
                .get::<Option<String>>(9)?
                .as_deref()
                .map(codec::datetime)
                .transpose()?,
        })
    }

    fn write_grants(&self, id: i64, grants: &[Grant]) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM user_grants WHERE user_id = ?1")?
            .execute([id])?;
        let mut ins = self.conn.prepare_cached(
            "INSERT INTO user_grants (user_id, role, scope_kind, scope_value) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (user_id, scope_kind, scope_value) DO UPDATE SET role = excluded.role",
        )?;
        for g in grants {
            let (k, v) = scope_columns(&g.scope);
            ins.execute(params![id, g.role.key(), k, v])?;
        }
        Ok(())
    }

    fn one_account(&self, sql_where: &str, arg: &dyn crate::sql::ToSql) -> Result<Option<Account>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM users WHERE {sql_where}"
        ))?;
        let mut rows = st.query([arg])?;
        match rows.next()? {
            Some(r) => Ok(Some(self.account_from_row(&r)?)),
            None => Ok(None),
        }
    }

    fn touch_user(&self, sql: &str, id: UserId, arg: &dyn crate::sql::ToSql) -> Result<()> {
        let n = self.conn.prepare_cached(sql)?.execute(params![id.0, arg])?;
        if n == 0 {
            return Err(StoreError::NotFound {
                what: "user",
                id: id.to_string(),
            });
        }
        Ok(())
    }
}

impl UserStore for SqliteStore {
    fn create_user(
        &self,
        u: &User,
        password_hash: &str,
        must_change_password: bool,
    ) -> Result<UserId> {
        self.in_transaction(|s| {
            s.conn
                .prepare_cached(
                    "INSERT INTO users (username, full_name, email, status, password_hash, must_change_password)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    u.username.as_str(),
                    u.full_name,
                    u.email.as_str(),
                    status_key(u.status),
                    password_hash,
                    must_change_password
                ])
                .map_err(|e| match e {
                    f if f.is_constraint_violation() => {
                        StoreError::Conflict(format!("username {} is taken", u.username))
                    }
                    other => other.into(),
                })?;
            let id = s.conn.last_insert_rowid()?;
            s.write_grants(id, &u.grants)?;
            Ok(UserId(id))
        })
    }

    fn account(&self, username: &Username) -> Result<Option<Account>> {
        self.one_account("username = ?1", &username.as_str())
    }

    fn account_by_id(&self, id: UserId) -> Result<Option<Account>> {
        self.one_account("id = ?1", &id.0)
    }

    fn users(&self) -> Result<Vec<User>> {
        let ids: Vec<i64> = {
            let mut st = self
                .conn
                .prepare_cached("SELECT id FROM users ORDER BY username")?;
            let rows = st.query_map([], |r| r.get(0))?;
            rows.collect::<std::result::Result<_, _>>()?
        };
        ids.into_iter()
            .filter_map(|id| self.account_by_id(UserId(id)).transpose())
            .map(|a| a.map(|a| a.user))
            .collect()
    }

    fn set_password(
        &self,
        id: UserId,
        password_hash: &str,
        must_change_password: bool,
    ) -> Result<()> {
        let n = self
            .conn
            .prepare_cached(
                "UPDATE users SET password_hash = ?2, must_change_password = ?3, failed_sign_ins = 0 WHERE id = ?1",
            )?
            .execute(params![id.0, password_hash, must_change_password])?;
        if n == 0 {
            return Err(StoreError::NotFound {
                what: "user",
                id: id.to_string(),
            });
        }
        Ok(())
    }

    fn set_grants(&self, id: UserId, grants: &[Grant]) -> Result<()> {
        self.in_transaction(|s| {
            if s.account_by_id(id)?.is_none() {
                return Err(StoreError::NotFound {
                    what: "user",
                    id: id.to_string(),
                });
            }
            s.write_grants(id.0, grants)
        })
    }

    fn set_status(&self, id: UserId, status: AccountStatus) -> Result<()> {
        // Unlocking also clears the failure count and a failed-sign-in lock.
        self.touch_user(
            "UPDATE users SET status = ?2,
                 failed_sign_ins = CASE WHEN ?2 = 'active' THEN 0 ELSE failed_sign_ins END,
                 locked_until = CASE WHEN ?2 = 'active' THEN NULL ELSE locked_until END
             WHERE id = ?1",
            id,
            &status_key(status),
        )
    }

    fn set_identity(&self, id: UserId, full_name: &str, email: &Email) -> Result<()> {
        let n = self
            .conn
            .prepare_cached("UPDATE users SET full_name = ?2, email = ?3 WHERE id = ?1")?
            .execute(params![id.0, full_name, email.as_str()])?;
        if n == 0 {
            return Err(StoreError::NotFound {
                what: "user",
                id: id.to_string(),
            });
        }
        Ok(())
    }

    fn record_failed_sign_in(&self, id: UserId) -> Result<u32> {
        self.conn
            .prepare_cached(
                "UPDATE users SET failed_sign_ins = failed_sign_ins + 1 WHERE id = ?1 RETURNING failed_sign_ins",
            )?
            .query_row([id.0], |r| r.get(0))
            .optional()?
            .ok_or_else(|| StoreError::NotFound { what: "user", id: id.to_string() })
    }

    fn set_locked_until(&self, id: UserId, until: Option<NaiveDateTime>) -> Result<()> {
        let until = until.map(|t| t.format(codec::DATETIME).to_string());
        self.touch_user(
            "UPDATE users SET locked_until = ?2,
                 failed_sign_ins = CASE WHEN CAST(?2 AS TEXT) IS NULL THEN 0 ELSE failed_sign_ins END
             WHERE id = ?1",
            id,
            &until,
        )
    }

    fn record_sign_in(&self, id: UserId, at: NaiveDateTime) -> Result<()> {
        self.touch_user(
            "UPDATE users SET last_sign_in = ?2, failed_sign_ins = 0, locked_until = NULL WHERE id = ?1",
            id,
            &at.format(codec::DATETIME).to_string(),
        )
    }
}
