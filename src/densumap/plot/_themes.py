"""Themes and colours shared by the static and interactive plots.

matplotlib is imported inside the functions, so importing this module is cheap.
"""
import numpy as np

# Themes as in umap.plot: the colour map for density / values, the palette for
# categorical labels, the background, and the colour map of connectivity edges.
_THEMES = {
    "fire": {"cmap": "fire", "color_key_cmap": "rainbow", "background": "black",
             "edge_cmap": "fire"},
    "viridis": {"cmap": "viridis", "color_key_cmap": "Spectral", "background": "black",
                "edge_cmap": "gray"},
    "inferno": {"cmap": "inferno", "color_key_cmap": "Spectral", "background": "black",
                "edge_cmap": "gray"},
    "blue": {"cmap": "Blues", "color_key_cmap": "tab20", "background": "white",
             "edge_cmap": "gray_r"},
    "red": {"cmap": "Reds", "color_key_cmap": "tab20b", "background": "white",
            "edge_cmap": "gray_r"},
    "green": {"cmap": "Greens", "color_key_cmap": "tab20c", "background": "white",
              "edge_cmap": "gray_r"},
    "darkblue": {"cmap": "darkblue", "color_key_cmap": "rainbow", "background": "black",
                 "edge_cmap": "darkred"},
    "darkred": {"cmap": "darkred", "color_key_cmap": "rainbow", "background": "black",
                "edge_cmap": "darkblue"},
    "darkgreen": {"cmap": "darkgreen", "color_key_cmap": "rainbow", "background": "black",
                  "edge_cmap": "darkpurple"},
}

# umap.plot takes these from colorcet; close look-alikes keep colorcet optional.
_CUSTOM_CMAPS = {
    "fire": ["#000000", "#5c0a00", "#b01e00", "#f04a00", "#ff8c1a", "#ffc94d", "#ffffff"],
    "darkblue": ["#000000", "#0a1a5c", "#1f3fb0", "#2a7fe0", "#5ac8f0", "#ffffff"],
    "darkred": ["#000000", "#4d0000", "#a01010", "#e04020", "#f5a030", "#ffff99"],
    "darkgreen": ["#000000", "#003300", "#0a6e1e", "#3caa3c", "#a0d264", "#ffffb3"],
    "darkpurple": ["#000000", "#1a0a5c", "#4b1fb0", "#a040d0", "#e090e0", "#ffffff"],
}
_COLORCET_NAMES = {"fire": "fire", "darkblue": "kbc", "darkred": "kr", "darkgreen": "kgy",
                   "darkpurple": "bmw"}


def check_theme(theme):
    if theme is not None and theme not in _THEMES:
        raise ValueError(f"Unknown theme {theme!r}; choose one of {sorted(_THEMES)}.")
    return _THEMES.get(theme)


def get_cmap(cmap, what="cmap"):
    """A matplotlib colour map from a name or a Colormap."""
    import matplotlib
    from matplotlib.colors import Colormap, LinearSegmentedColormap

    if isinstance(cmap, Colormap):
        return cmap
    if cmap in _CUSTOM_CMAPS:
        try:  # the originals, when colorcet is around
            import colorcet

            return LinearSegmentedColormap.from_list(
                cmap, getattr(colorcet, _COLORCET_NAMES[cmap]))
        except (ImportError, AttributeError):
            return LinearSegmentedColormap.from_list(cmap, _CUSTOM_CMAPS[cmap])
    try:
        return matplotlib.colormaps[cmap]
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown colour map {cmap!r} for {what}: use a matplotlib colour map name "
            f"(e.g. 'viridis', 'Spectral', 'tab10') or one of {sorted(_CUSTOM_CMAPS)}."
        ) from None


def to_rgb(color, what):
    from matplotlib.colors import to_rgb as _to_rgb

    try:
        return tuple(_to_rgb(color))
    except ValueError:
        raise ValueError(f"{what}: {color!r} is not a matplotlib colour.") from None


def luminance(rgb):
    """Relative luminance (WCAG) of sRGB colours in [0, 1], shape (..., 3)."""
    rgb = np.asarray(rgb, dtype=float)[..., :3]
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return lin @ np.array([0.2126, 0.7152, 0.0722])


def contrast(rgb, background_rgb):
    a, b = luminance(rgb), luminance(background_rgb)
    return (np.maximum(a, b) + 0.05) / (np.minimum(a, b) + 0.05)


def density_ramp(cmap, background_rgb):
    """Return ``f(t) -> RGB`` for density shading, t in [0, 1] from sparse to dense.

    Dense pixels take the end of ``cmap`` that stands out most against the
    background. A sequential map (luminance monotonic along it, like 'Blues' or
    'fire') is followed from 40% of the way in to that end; a diverging or
    rainbow map (like 'Spectral') gives a single colour, since its middle would
    either vanish into the background or suggest a meaning it does not have.
    Opacity, set elsewhere, carries the density in both cases.
    """
    samples = cmap(np.linspace(0.0, 1.0, 17))[:, :3]
    lum = luminance(samples)
    reverse = contrast(samples[0], background_rgb) > contrast(samples[-1], background_rgb)
    steps = np.diff(lum)
    sequential = np.all(steps >= -1e-3) or np.all(steps <= 1e-3)

    def ramp(t):
        t = np.asarray(t, dtype=float)
        s = 0.4 + 0.6 * t if sequential else np.full_like(t, 0.9)
        return cmap(1.0 - s if reverse else s)[..., :3]

    return ramp


def category_colors(categories, color_key, palette):
    """RGB colours of shape (n_categories, 3) for the sorted ``categories``."""
    from matplotlib.colors import ListedColormap

    k = len(categories)
    if color_key is not None:
        if isinstance(color_key, dict):
            out, missing = [], []
            for cat in categories:
                for key in (cat, str(cat)):
                    if key in color_key:
                        out.append(to_rgb(color_key[key], f"color_key[{key!r}]"))
                        break
                else:
                    missing.append(cat)
            if missing:
                plain = [m.item() if isinstance(m, np.generic) else m for m in missing]
                shown = ", ".join(map(repr, plain[:10])) + (" ..." if len(plain) > 10 else "")
                raise ValueError(f"color_key has no colour for the labels {shown}.")
            return np.array(out)
        colors = list(color_key)
        if len(colors) < k:
            raise ValueError(
                f"color_key holds {len(colors)} colours but labels have {k} distinct "
                "values; pass one colour per label (in sorted label order) or a dict."
            )
        return np.array([to_rgb(c, "color_key") for c in colors[:k]])
    if isinstance(palette, ListedColormap) and palette.N <= 32 and k <= palette.N:
        # A qualitative palette (tab10, Set1, ...): its colours in order.
        return np.asarray(palette(np.arange(k)))[:, :3]
    positions = np.linspace(0.0, 1.0, k) if k > 1 else np.array([0.0])
    return np.asarray(palette(positions))[:, :3]


def foreground(background_rgb):
    """Black or white, whichever reads better on the background."""
    return "black" if luminance(background_rgb) > 0.3 else "white"


def to_hex(rgb):
    from matplotlib.colors import to_hex as _to_hex

    return _to_hex(rgb)
