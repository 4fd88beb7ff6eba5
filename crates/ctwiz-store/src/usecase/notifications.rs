//! A user's notifications (the bell): their own only, kept 90 days, marked read when
//! opened. Reading them needs no permission beyond being signed in: each names only what
//! the user themselves asked for or is responsible for.

use super::{not_found, UseCaseError};
use crate::clinic_info::{Notification, NotificationStore};
use chrono::NaiveDateTime;
use ctwiz_core::actor::Actor;
use ctwiz_core::ids::UserId;

/// How long a notification is kept.
pub const KEEP_DAYS: i64 = 90;

fn oldest_kept(now: NaiveDateTime) -> NaiveDateTime {
    now - chrono::Duration::days(KEEP_DAYS)
}

fn owner(actor: &Actor) -> Result<UserId, UseCaseError> {
    actor
        .user
        .id
        .ok_or_else(|| UseCaseError::UnknownUser(actor.user.username.to_string()))
}

/// The actor's notifications of the last 90 days, newest first; older ones are deleted.
pub fn list<S: NotificationStore>(
    store: &S,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<Vec<Notification>, UseCaseError> {
    let user = owner(actor)?;
    store.purge_notifications(oldest_kept(now))?;
    Ok(store.notifications(user, oldest_kept(now))?)
}

/// How many of the actor's notifications are unread (the bell's count).
pub fn unread<S: NotificationStore + ?Sized>(
    store: &S,
    user: UserId,
    now: NaiveDateTime,
) -> Result<usize, UseCaseError> {
    Ok(store.unread_notifications(user, oldest_kept(now))?)
}

/// Opens notification `id` of the actor: marks it read and returns it (its link is where
/// the user goes). Someone else's notification is not found.
pub fn open<S: NotificationStore>(
    store: &S,
    actor: &Actor,
    id: i64,
    now: NaiveDateTime,
) -> Result<Notification, UseCaseError> {
    let user = owner(actor)?;
    store
        .mark_notification_read(user, id, now)?
        .filter(|n| n.created_at >= oldest_kept(now))
        .ok_or_else(|| not_found("notification", id))
}

/// The stored users of `users` whose access type at clinic `pin` allows `action` (who is
/// told about a clinic's order decisions, distributed reports).
pub(crate) fn at_clinic_who_may<'a>(
    users: &'a [ctwiz_core::access::User],
    pin: &'a ctwiz_core::ids::ClinicPin,
    action: ctwiz_core::access::Action,
) -> impl Iterator<Item = (UserId, &'a ctwiz_core::access::User)> + 'a {
    users.iter().filter_map(move |u| {
        let (id, role) = (u.id?, u.role_at(pin)?);
        role.allows(action).then_some((id, u))
    })
}

/// Notifies every user who may do `action` at clinic `pin` (e.g. the coordinators who
/// ordered, when the state decides an order). Returns how many were told.
pub(crate) fn notify_clinic<S: NotificationStore + crate::traits::UserStore + ?Sized>(
    store: &S,
    pin: &ctwiz_core::ids::ClinicPin,
    action: ctwiz_core::access::Action,
    kind: crate::clinic_info::NotificationKind,
    message: &str,
    link: &str,
    now: NaiveDateTime,
) -> Result<usize, UseCaseError> {
    let users = store.users()?;
    let mut told = 0;
    for (id, _) in at_clinic_who_may(&users, pin, action) {
        store.notify(id, kind, message, link, now)?;
        told += 1;
    }
    Ok(told)
}
