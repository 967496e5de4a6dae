"""Helpers for the center's desk tests: the demo network, accounts, logged-in clients."""

from __future__ import annotations

import re

from sync.server.services import accounts, sites

NETWORK = ("code,name,tier,parent\n"
           "DT,大同市新时代文明实践中心,center,\n"
           "PC,平城区新时代文明实践中心,center,DT\n"
           "YG,云冈区新时代文明实践中心,center,DT\n"
           "PC-XJNL,新建南路街道新时代文明实践所,institute,PC\n"
           "WBY,文博苑社区,station,PC-XJNL\n"
           "HYL,和阳里社区,station,PC-XJNL\n"
           "YG-YGZ,云冈镇新时代文明实践所,institute,YG\n"
           "YGZ,云冈镇综合站,station,YG-YGZ\n")
PASSWORD = "correct horse battery"


def load_network() -> None:
    sites.import_sites(NETWORK)


def add(username: str, site: str | None, role: str = "coordinator") -> str:
    accounts.add_user(username, site=site, role=role, password=PASSWORD)
    return username


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def log_in(client, username: str, password: str = PASSWORD):
    """Log in through the form as a browser would; returns the last answer."""
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token,
                                       "next": "/"}, follow_redirects=False)


def page_csrf(client, path: str = "/") -> str:
    return csrf_of(client.get(path).text)
