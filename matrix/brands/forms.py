"""Forms of the brand screens."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length


class BrandForm(FlaskForm):
    name = StringField(_l("Brand name"), validators=[DataRequired(), Length(max=120)])
    logo = FileField(_l("Logo"), render_kw={"accept": "image/png,image/jpeg,image/gif,image/webp"})
    remove_logo = BooleanField(_l("Remove the current logo"))

    def logo_bytes(self) -> bytes | None:
        """The uploaded file's bytes, or None when no file was chosen."""
        upload = self.logo.data
        if not upload or not getattr(upload, "filename", ""):
            return None
        return upload.read()
