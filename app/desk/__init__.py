"""The specialist's desk: the page that composes availability, calls, work and the rota."""
