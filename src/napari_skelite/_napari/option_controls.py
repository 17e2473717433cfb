"""The methods' options as widget controls, made from their :class:`~napari_skelite.methods.Option` records.

A switch is a check box, an option with choices a combo box (with "default"
first when the method picks the value), a number a spin box, anything else a
line edit whose empty text means the default. Only the chosen method's options
are shown; a registered method's options appear without editing the widget.
"""
from __future__ import annotations

from qtpy.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QLabel, QLineEdit, QSpinBox, QWidget

from .. import methods

__all__ = ["OptionControls"]

_DEFAULT = "default"


class OptionControls(QWidget):
    """One control per method option, in a form; :meth:`show_for` shows those of one method."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.controls: dict = {}
        self._labels: dict = {}
        for name, (p, who) in methods.options_by_name().items():
            control = self._control(p)
            control.setToolTip(f"{', '.join(who)}: {p.help}")
            label = QLabel("" if p.type is bool else name.replace("_", " "))
            self.form.addRow(label, control)
            self.controls[name], self._labels[name] = control, label

    @staticmethod
    def _control(p):
        if p.type is bool:
            box = QCheckBox(p.name.replace("_", " "))
            box.setChecked(bool(p.default))
            return box
        if p.choices is not None:
            combo = QComboBox()
            if p.default is None:
                combo.addItem(_DEFAULT, None)
            for c in p.choices:
                combo.addItem(str(c), c)
            combo.setCurrentIndex(combo.findData(p.default) if p.default is not None else 0)
            return combo
        if p.type in (int, float):
            spin = QSpinBox() if p.type is int else QDoubleSpinBox()
            spin.setRange(-10**9, 10**9)
            spin.setValue(p.default or 0)
            return spin
        edit = QLineEdit("" if p.default is None else str(p.default))
        edit.setPlaceholderText(_DEFAULT)
        return edit

    def show_for(self, method: str) -> None:
        """Show only the options ``method`` takes."""
        takes = set(methods.get(method).options)
        for name in self.controls:
            self.controls[name].setVisible(name in takes)
            self._labels[name].setVisible(name in takes)

    def value(self, name: str):
        """The value of option ``name`` as its control shows it (``None``: the method's default)."""
        c = self.controls[name]
        if isinstance(c, QCheckBox):
            return c.isChecked()
        if isinstance(c, QComboBox):
            return c.currentData()
        if isinstance(c, (QSpinBox, QDoubleSpinBox)):
            return c.value()
        return c.text().strip() or None

    def values(self) -> dict:
        """Every option's value (``None`` ones left out); each method takes the ones it declares."""
        out = {name: self.value(name) for name in self.controls}
        return {k: v for k, v in out.items() if v is not None}
