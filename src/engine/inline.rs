//! A list of small copyable items kept in line up to a fixed number and on the heap
//! beyond: for the per-evaluation lists that are nearly always short (the rules fired,
//! a rule's behaviour counts), so that building them allocates nothing.

/// Up to `N` items in line, all of them on the heap once there are more.
#[derive(Clone, Debug)]
pub(crate) struct InlineList<T: Copy + Default, const N: usize> {
    small: [T; N],
    len: usize,
    more: Vec<T>,
}

impl<T: Copy + Default, const N: usize> Default for InlineList<T, N> {
    fn default() -> Self {
        InlineList {
            small: [T::default(); N],
            len: 0,
            more: Vec::new(),
        }
    }
}

impl<T: Copy + Default + PartialEq, const N: usize> InlineList<T, N> {
    /// Adds an item at the end.
    #[inline]
    pub fn push(&mut self, item: T) {
        if self.more.is_empty() {
            if let Some(place) = self.small.get_mut(self.len) {
                *place = item;
                self.len += 1;
                return;
            }
            self.more.reserve(2 * N);
            self.more.extend_from_slice(&self.small);
        }
        self.more.push(item);
    }

    /// The items, in order.
    #[inline]
    pub fn as_slice(&self) -> &[T] {
        if self.more.is_empty() {
            &self.small[..self.len]
        } else {
            &self.more
        }
    }

    /// How many items there are.
    #[inline]
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Whether an item is in the list.
    #[inline]
    pub fn contains(&self, item: &T) -> bool {
        self.as_slice().contains(item)
    }
}

impl<T: Copy + Default + PartialEq, const N: usize> FromIterator<T> for InlineList<T, N> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        let mut list = InlineList::default();
        for item in items {
            list.push(item);
        }
        list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_items_in_order_in_line_and_beyond() {
        let mut list: InlineList<u32, 3> = InlineList::default();
        assert_eq!(list.as_slice(), &[] as &[u32]);
        for i in 0..3 {
            list.push(i);
        }
        assert!(list.more.is_empty());
        assert_eq!(list.as_slice(), &[0, 1, 2]);
        list.push(3);
        list.push(4);
        assert_eq!(list.as_slice(), &[0, 1, 2, 3, 4]);
        assert_eq!(list.len(), 5);
        assert!(list.contains(&4) && !list.contains(&5));
        let collected: InlineList<u32, 3> = (0..2).collect();
        assert_eq!(collected.as_slice(), &[0, 1]);
    }
}
