"""The site: the URLs, the frame of every page (navigation, dealer switch, login, refusals),
the middleware, the API's root and the commands that run the whole (`dcc serve`, `dcc check`,
`dcc tick`). It sits on top of every app; no app imports it."""
