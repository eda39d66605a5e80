"""The demo's own pages: a home page with links, and a shop page that embeds the widget."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, render_template

from .seed import find_demo_source

bp = Blueprint("demo", __name__)


@dataclass(frozen=True)
class Product:
    slug: str
    name: str
    price: str
    blurb: str


PRODUCTS: tuple[Product, ...] = (
    Product("kettle", "Copper kettle", "€49", "Boils a litre in three minutes; whistles politely."),
    Product("mug", "Stoneware mug", "€14", "Hand glazed, 350 ml, dishwasher safe."),
    Product("tea", "Breakfast tea, 250 g", "€9", "Strong Assam blend, loose leaf."),
)


@bp.get("/")
def home() -> Any:
    return render_template("example_app/home.html")


@bp.get("/shop")
def shop() -> Any:
    state = current_app.extensions["gincore_chats"]
    source = find_demo_source(state)
    # Without a source (the demo was not seeded) the page still works, just without chat.
    widget_key = source.public_key if source is not None and source.active else None
    return render_template("example_app/shop.html", products=PRODUCTS, widget_key=widget_key)
