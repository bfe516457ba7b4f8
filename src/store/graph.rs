//! Graph's series members: each occurrence's and exception's own id with its series (the
//! master's id) and original start, so a removal that names only an occurrence finds its series
//! (PROTOCOLS.md §3 "Items, removals, series"). An index, never the record: a stale row at worst
//! makes a series be fetched again.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

/// One member of a series: its id, the master's id, its original start (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: String,
    pub series: String,
    pub original_start: i64,
}

impl Store {
    /// Records members (replacing what was known of the same ids).
    pub fn put_graph_members(
        &mut self,
        calendar: i64,
        members: &[Member],
    ) -> Result<(), StoreError> {
        if members.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR REPLACE INTO graph_members (calendar_id, id, series, original_start)
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            for m in members {
                stmt.execute(params![calendar, m.id, m.series, m.original_start])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Replaces what is known of each series' members with the members given (its instances
    /// as listed), in one transaction.
    pub fn set_graph_series(
        &mut self,
        calendar: i64,
        series: &[(String, Vec<Member>)],
    ) -> Result<(), StoreError> {
        if series.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        {
            let mut forget = tx.prepare_cached(
                "DELETE FROM graph_members WHERE calendar_id = ?1 AND series = ?2",
            )?;
            let mut put = tx.prepare_cached(
                "INSERT OR REPLACE INTO graph_members (calendar_id, id, series, original_start)
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (id, members) in series {
                forget.execute(params![calendar, id])?;
                for m in members {
                    put.execute(params![calendar, m.id, id, m.original_start])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Forgets the members `ids` (whatever series they were of), in one transaction.
    pub fn forget_graph_members(
        &mut self,
        calendar: i64,
        ids: &[String],
    ) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        {
            let mut forget =
                tx.prepare_cached("DELETE FROM graph_members WHERE calendar_id = ?1 AND id = ?2")?;
            for id in ids {
                forget.execute(params![calendar, id])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The member known by `id`, if any.
    pub fn graph_member(&self, calendar: i64, id: &str) -> Result<Option<Member>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT series, original_start FROM graph_members
                 WHERE calendar_id = ?1 AND id = ?2",
            )?
            .query_row(params![calendar, id], |r| {
                Ok(Member {
                    id: id.to_string(),
                    series: r.get(0)?,
                    original_start: r.get(1)?,
                })
            })
            .optional()?)
    }

    /// The members known of `series`.
    pub fn graph_members_of(&self, calendar: i64, series: &str) -> Result<Vec<Member>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, original_start FROM graph_members WHERE calendar_id = ?1 AND series = ?2",
        )?;
        let rows = stmt.query_map(params![calendar, series], |r| {
            Ok(Member {
                id: r.get(0)?,
                series: series.to_string(),
                original_start: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Forgets every member of series that are no longer in the cache.
    pub fn prune_graph_members(&mut self, calendar: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "DELETE FROM graph_members WHERE calendar_id = ?1 AND NOT EXISTS
               (SELECT 1 FROM items i WHERE i.calendar_id = ?1 AND i.href = graph_members.series)",
            [calendar],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_found_by_id_exactly_and_replaced_per_series() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let cal = store.local_calendar("Work").unwrap();
        let m = |id: &str, s: &str, t: i64| Member {
            id: id.into(),
            series: s.into(),
            original_start: t,
        };
        store
            .put_graph_members(
                cal,
                &[m("AAk=", "S1", 10), m("AAK=", "S1", 20), m("B", "S2", 5)],
            )
            .unwrap();
        assert_eq!(
            store.graph_member(cal, "AAk=").unwrap(),
            Some(m("AAk=", "S1", 10))
        );
        assert_eq!(
            store.graph_member(cal, "AAK=").unwrap(),
            Some(m("AAK=", "S1", 20))
        );
        assert_eq!(store.graph_member(cal, "aak=").unwrap(), None);
        store
            .set_graph_series(cal, &[("S1".into(), vec![m("C", "S1", 30)])])
            .unwrap();
        assert_eq!(store.graph_member(cal, "AAk=").unwrap(), None);
        assert_eq!(
            store.graph_members_of(cal, "S1").unwrap(),
            vec![m("C", "S1", 30)]
        );
        store.prune_graph_members(cal).unwrap();
        assert!(store.graph_members_of(cal, "S2").unwrap().is_empty());
    }
}
