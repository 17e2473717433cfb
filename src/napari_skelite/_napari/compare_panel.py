"""The comparison box of the dock widget: a Qt view of the session's comparison rows."""
from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtGui import QColor
from qtpy.QtWidgets import (
    QApplication,
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from .. import methods
from .controller import TABLE_COLUMNS, table_cells

BAD_COLOR = (255, 110, 90)


class ComparePanel(QGroupBox):
    """Tick methods, Compare, read the table; a row shows its skeleton alone, two rows their differences."""

    def __init__(self, session, options):
        super().__init__("Compare methods")
        self.session, self.options = session, options
        cl = QVBoxLayout(self)
        checks = QHBoxLayout()
        self.compare_checks = {}
        for m in methods.names():
            c = self.compare_checks[m] = QCheckBox(m)
            c.setChecked(True)
            checks.addWidget(c)
        cl.addLayout(checks)
        row = QHBoxLayout()
        self.compare_btn = QPushButton("Compare")
        self.compare_btn.clicked.connect(lambda *_: self.compare())
        self.copy_btn = QPushButton("Copy table as CSV")
        self.copy_btn.clicked.connect(lambda *_: QApplication.clipboard().setText(self.session.table_csv()))
        self.copy_btn.setEnabled(False)
        row.addWidget(self.compare_btn)
        row.addWidget(self.copy_btn)
        cl.addLayout(row)
        self.table = t = QTableWidget(0, len(TABLE_COLUMNS))
        t.setHorizontalHeaderLabels([title for _, title, _ in TABLE_COLUMNS])
        for j, (_, _, tip) in enumerate(TABLE_COLUMNS):
            t.horizontalHeaderItem(j).setToolTip(tip)
        t.verticalHeader().setVisible(False)
        t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        t.setMinimumHeight(150)
        t.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        t.setSelectionMode(QTableWidget.SelectionMode.ExtendedSelection)
        t.setToolTip("click a row to show that method's skeleton alone over the input; "
                     "select two rows (Ctrl-click) and press Differences to see where they disagree")
        t.itemSelectionChanged.connect(self._on_rows_selected)
        cl.addWidget(t)
        self.diff_btn = QPushButton("Differences of the two selected methods")
        self.diff_btn.setEnabled(False)
        self.diff_btn.clicked.connect(lambda *_: self.show_differences())
        cl.addWidget(self.diff_btn)
        session.events.rows.connect(self.render_rows)

    def compare(self):
        names = [m for m, c in self.compare_checks.items() if c.isChecked()]
        return self.session.compare(names, self.options())

    def render_rows(self, event=None):
        """Show the session's rows of the current input (another input's rows are kept for when it is back)."""
        rows = self.session.table_rows
        self.table.blockSignals(True)
        self.table.clearSelection()
        self.table.setRowCount(len(rows))
        for i, cells in enumerate(table_cells(rows)):
            for j, cell in enumerate(cells):
                item = QTableWidgetItem(cell.text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                item.setToolTip(cell.tooltip)
                if cell.bad:
                    item.setForeground(QColor(*BAD_COLOR))
                self.table.setItem(i, j, item)
        self.table.blockSignals(False)
        self.copy_btn.setEnabled(bool(rows))
        self.diff_btn.setEnabled(False)
        if rows and event is not None:
            self.table.selectRow(0)

    def selected_methods(self) -> list[str]:
        rows, table = sorted({i.row() for i in self.table.selectedIndexes()}), self.session.table_rows
        return [table[r]["method"] for r in rows if r < len(table)]

    def _on_rows_selected(self):
        chosen = self.selected_methods()
        self.diff_btn.setEnabled(len(chosen) == 2)
        if chosen:
            self.session.select_rows(chosen)

    def show_differences(self):
        chosen = self.selected_methods()
        if len(chosen) != 2:
            self.session.notify("error", "Select two rows of the comparison table.")
            return None
        return self.session.differences(*chosen)
