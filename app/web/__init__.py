"""The console's shared foundation: layout and components, sign-in, sessions, CSRF, navigation.

Domain packages put their pages beside their endpoints (`app/rota/pages.py` with templates
in `app/rota/templates/`) and use what is here: `render`, the `CurrentUser` / `require_page_role`
dependencies, `form_data` (CSRF-checked), and `register_nav` for the header's links.
"""
