use crate::cli::{ForgetArgs, GlobalArgs};
use partner_pages::config::{Config, CONFIG_FILE};
use partner_pages::error::{Error, Result};
use partner_pages::leads::forget::{forget, summary, Person};

pub(super) fn run(global: &GlobalArgs, args: ForgetArgs) -> Result<()> {
    let person = match (args.visitor, args.user) {
        (Some(v), None) if !v.is_empty() => Person::Visitor(v),
        (None, Some(u)) if !u.is_empty() => Person::User(u),
        _ => {
            return Err(Error::user_hint(
                "forget needs exactly one non-empty --visitor ID or --user ID",
                "partner-pages forget --db partner-events.db --visitor 3f2b…",
            ))
        }
    };
    let done = forget(&args.db, &person)?;
    // The D1 database name comes from the site config when there is one; the deletion itself
    // does not need a site, so a missing or broken config only leaves a placeholder.
    let database = std::fs::read_to_string(global.root.join(CONFIG_FILE))
        .ok()
        .and_then(|t| serde_saphyr::from_str::<Config>(&t).ok())
        .map(|c| c.collector.database)
        .unwrap_or_else(|| "<your-d1-database>".to_string());
    print!("{}", summary(&person, &args.db, &done, &database));
    // The local copies of the remote D1 (`--events d1:<name>`) hold the same rows: forget
    // there too, so a report on the cache no longer shows them.
    let same = |p: &std::path::Path| matches!((p.canonicalize(), args.db.canonicalize()), (Ok(a), Ok(b)) if a == b);
    for cache in partner_pages::events::wrangler::local_caches(&global.root) {
        if same(&cache) {
            continue;
        }
        let done = forget(&cache, &person)?;
        println!(
            "deleted {} row{} from the local D1 cache {}",
            done.rows,
            if done.rows == 1 { "" } else { "s" },
            cache.display()
        );
    }
    Ok(())
}
