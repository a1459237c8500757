//! Reading a newest-first list page by page, and where to stop: the one rule shared by the
//! poller's scans (discovery, the `status=PENDING` list) and the audit.
//!
//! A list ends at its last page (as `X-Has-More`, `X-Total-Pages` or a short page say, see
//! [`super::wire::has_more`]), at a page without an id this reading has not seen already (a
//! provider that ignores `page`, or claims more pages forever, repeats itself; an empty page
//! is such a page too), or after `max_pages` pages, whatever the provider claims.

use std::collections::HashSet;

/// Why a list reading ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The provider's last page.
    Last,
    /// A page with nothing new: the provider repeats itself or the list does not advance.
    Repeated,
    /// The page limit of one reading.
    Capped,
}

impl End {
    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            End::Last => "last",
            End::Repeated => "repeated",
            End::Capped => "capped",
        }
    }
}

/// One reading of a list in progress.
#[derive(Debug)]
pub struct Paging {
    /// The page to read next (1-based).
    page: u32,
    max_pages: u32,
    seen: HashSet<u64>,
    /// Whether the current page had an id not seen before.
    unseen: bool,
}

impl Paging {
    /// A reading from page 1 that reads at most `max_pages` pages.
    pub fn new(max_pages: u32) -> Self {
        Self {
            page: 1,
            max_pages: max_pages.max(1),
            seen: HashSet::new(),
            unseen: false,
        }
    }

    /// The page to read next (1-based).
    pub fn page(&self) -> u32 {
        self.page
    }

    /// Notes one id of the current page; true the first time this reading sees it.
    pub fn see(&mut self, id: u64) -> bool {
        let new = self.seen.insert(id);
        self.unseen |= new;
        new
    }

    /// Whether this reading has seen `id`.
    pub fn saw(&self, id: u64) -> bool {
        self.seen.contains(&id)
    }

    /// After a page whose ids were all [`Paging::see`]n: the next page to read, or why the
    /// list ends here.
    pub fn turn(&mut self, has_more: bool) -> Result<u32, End> {
        let unseen = std::mem::take(&mut self.unseen);
        if !has_more {
            return Err(End::Last);
        }
        if !unseen {
            return Err(End::Repeated);
        }
        if self.page >= self.max_pages {
            return Err(End::Capped);
        }
        self.page += 1;
        Ok(self.page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_ends_at_its_last_page_at_a_page_with_nothing_new_or_at_the_cap() {
        let mut p = Paging::new(3);
        assert!(p.see(2) && p.see(1));
        assert_eq!(p.turn(true), Ok(2));
        assert!(!p.see(1), "seen on page 1");
        assert_eq!(p.turn(true), Err(End::Repeated), "nothing new on page 2");
        let mut p = Paging::new(3);
        assert_eq!(p.turn(true), Err(End::Repeated), "an empty page");
        let mut p = Paging::new(2);
        for id in 1..=2 {
            p.see(id);
            assert_eq!(p.turn(true).err(), (id == 2).then_some(End::Capped));
        }
        let mut p = Paging::new(5);
        p.see(1);
        assert_eq!(p.turn(false), Err(End::Last));
        assert!(p.saw(1) && !p.saw(2));
    }
}
