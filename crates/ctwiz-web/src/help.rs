//! Help pages: one per screen (`/help/<key>`, written in `nav::SCREENS`) and an index.
//! They hold no data, so they open signed in (with the menu) or not (sign-in help).

use crate::error::AppError;
use crate::nav::{self, Group, Screen};
use crate::page;
use crate::session::{Ctx, NoCtx};
use axum::extract::Path;
use maud::{html, Markup};

fn shell(ctx: Result<Ctx, NoCtx>, title: &str, body: Markup) -> Markup {
    match ctx {
        Ok(ctx) => page::layout(&ctx, title, body),
        Err(_) => page::public(title, body),
    }
}

pub async fn index(ctx: Result<Ctx, NoCtx>) -> Markup {
    let groups = Group::MENU.into_iter().chain([Group::Public]);
    shell(
        ctx,
        "Help",
        html! {
            p { "Every screen has a help icon (?) next to its title and a Learn more link to its page here." }
            @for g in groups {
                @let screens: Vec<&Screen> = nav::SCREENS.iter().filter(|s| s.group == g).collect();
                @if !screens.is_empty() {
                    h2 { (g.label()) }
                    dl.help {
                        @for s in screens {
                            dt { a href={ "/help/" (s.key) } { (s.title) } }
                            dd { (s.summary) }
                        }
                    }
                }
            }
            p { a href="/trouble-signing-in" { "Trouble Logging In?" } }
        },
    )
}

pub async fn topic(ctx: Result<Ctx, NoCtx>, Path(key): Path<String>) -> Result<Markup, AppError> {
    let s = nav::help_for(&key).ok_or_else(|| AppError::NotFound("This help page".into()))?;
    Ok(shell(
        ctx,
        &format!("Help: {}", s.title),
        html! {
            p.lead { (s.summary) }
            @for para in s.help { p { (para) } }
            p.muted {
                @if !s.path.contains('{') { a href=(s.path) { "Go to " (s.title) } " · " }
                a href="/help" { "All help pages" }
            }
        },
    ))
}
