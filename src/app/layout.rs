//! Screen geometry, computed from the terminal size alone: the view draws into it and `update` uses it
//! to map a mouse click to a day. Pure, so both agree.

use ratatui::layout::Rect;

/// Below this size the month grid cannot be read; the view becomes a day list.
pub const MIN_GRID: (u16, u16) = (80, 24);
/// The side pane appears to the right of the grid from this width on.
pub const SIDE_PANE_FROM: u16 = 100;

/// Where each part of the month screen goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Geometry {
    pub title: Rect,
    pub header: Rect,
    pub grid: Rect,
    /// The selected day's events: right of the grid when wide enough, else below it.
    pub side: Rect,
    pub status: Rect,
    /// x of each column's left edge, plus the grid's right edge (8 values).
    pub columns: [u16; 8],
    /// y of each week row's top, plus the grid's bottom (weeks + 1 values).
    pub rows: Vec<u16>,
}

/// True when the terminal is too small for the grid.
pub fn too_small(width: u16, height: u16) -> bool {
    width < MIN_GRID.0 || height < MIN_GRID.1
}

/// The month screen's geometry for `weeks` week rows in `area`.
pub fn month(area: Rect, weeks: u16) -> Geometry {
    let title = Rect { height: 1, ..area };
    let status = Rect {
        y: area.bottom().saturating_sub(1),
        height: 1,
        ..area
    };
    let body_y = area.y + 1;
    let body_h = area.height.saturating_sub(2);
    let (grid_w, side) = if area.width >= SIDE_PANE_FROM {
        let side_w = (area.width / 4).clamp(30, 44);
        let grid_w = area.width - side_w;
        (
            grid_w,
            Rect {
                x: area.x + grid_w,
                y: body_y,
                width: side_w,
                height: body_h,
            },
        )
    } else {
        let side_h = (body_h / 4).max(4);
        (
            area.width,
            Rect {
                x: area.x,
                y: area.bottom() - 1 - side_h,
                width: area.width,
                height: side_h,
            },
        )
    };
    let grid_h = if area.width >= SIDE_PANE_FROM {
        body_h - 1
    } else {
        body_h - 1 - side.height
    };
    let header = Rect {
        x: area.x,
        y: body_y,
        width: grid_w,
        height: 1,
    };
    let grid = Rect {
        x: area.x,
        y: body_y + 1,
        width: grid_w,
        height: grid_h,
    };
    let mut columns = [0u16; 8];
    for (i, c) in columns.iter_mut().enumerate() {
        *c = grid.x + (grid.width as u32 * i as u32 / 7) as u16;
    }
    let weeks = weeks.max(1);
    let rows = (0..=weeks)
        .map(|i| grid.y + (grid.height as u32 * i as u32 / weeks as u32) as u16)
        .collect();
    Geometry {
        title,
        header,
        grid,
        side,
        status,
        columns,
        rows,
    }
}

impl Geometry {
    /// The (week row, column) under a screen cell, if it is inside the grid.
    pub fn cell_at(&self, x: u16, y: u16) -> Option<(usize, usize)> {
        if x < self.grid.x || x >= self.grid.right() || y < self.grid.y || y >= self.grid.bottom() {
            return None;
        }
        let col = self
            .columns
            .windows(2)
            .position(|w| x >= w[0] && x < w[1])?;
        let row = self.rows.windows(2).position(|w| y >= w[0] && y < w[1])?;
        Some((row, col))
    }

    /// The screen area of one day cell.
    pub fn cell(&self, row: usize, col: usize) -> Rect {
        let x = self.columns[col];
        let y = self.rows[row];
        Rect {
            x,
            y,
            width: self.columns[col + 1] - x,
            height: self.rows[row + 1] - y,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_grid_cell_maps_back_to_itself() {
        for (w, h, weeks) in [(80, 24, 6), (120, 40, 5), (203, 57, 4)] {
            let g = month(Rect::new(0, 0, w, h), weeks);
            for row in 0..weeks as usize {
                for col in 0..7 {
                    let c = g.cell(row, col);
                    assert!(c.width >= 10 && c.height >= 2, "{w}x{h}: {c:?}");
                    assert_eq!(g.cell_at(c.x, c.y), Some((row, col)));
                    assert_eq!(g.cell_at(c.right() - 1, c.bottom() - 1), Some((row, col)));
                }
            }
            assert_eq!(g.cell_at(g.side.x, g.side.y), None);
        }
    }

    #[test]
    fn the_side_pane_moves_below_the_grid_on_narrow_terminals() {
        let wide = month(Rect::new(0, 0, 120, 40), 5);
        assert_eq!(wide.side.x, wide.grid.right());
        let narrow = month(Rect::new(0, 0, 80, 30), 5);
        assert_eq!(narrow.side.y, narrow.grid.bottom());
    }
}
