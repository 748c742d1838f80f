#!/bin/sh
# Refresh the Chinese catalog after UI strings change. Run from anywhere:
#   translations/update.sh
# It extracts every _(), gettext(), ngettext(), pgettext(), lazy_gettext(), lazy_pgettext() and _l()
# from matrix/**.py and templates/**.html into translations/messages.pot, merges new ids into
# translations/zh/LC_MESSAGES/messages.po (new ones untranslated, changed ones fuzzy),
# and compiles messages.mo. Translate the empty/fuzzy entries in the .po, then run it again.
# Equivalent to:
#   .venv/bin/pybabel extract -F translations/babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 \
#       --ignore-dirs=".*" -o translations/messages.pot . &&
#   .venv/bin/pybabel update -i translations/messages.pot -d translations -l zh &&
#   .venv/bin/pybabel compile -d translations
# (the very first time, "init" instead of "update"). lazy_pgettext("content item", "Planned") exists
# because the same English word needs two Chinese words (store 筹备中, content item 待执行).
# --ignore-dirs=".*": Babel otherwise skips folders starting with "_", i.e. templates/_macros.
set -e
cd "$(dirname "$0")/.."
.venv/bin/pybabel extract -F translations/babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 --ignore-dirs=".*" \
    --project StoreMatrix -o translations/messages.pot .
if [ -f translations/zh/LC_MESSAGES/messages.po ]; then
    .venv/bin/pybabel update -i translations/messages.pot -d translations -l zh
else
    .venv/bin/pybabel init -i translations/messages.pot -d translations -l zh
fi
.venv/bin/pybabel compile -d translations --statistics
