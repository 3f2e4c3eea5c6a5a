-- Taste and safety: what each ingredient tastes like and what it contains, each guest's
-- taste profile, and their thumbs up / down on drinks.
--
-- A drink's flavour, allergens and "alcohol-free" are derived from these rows at query
-- time (chalicelib/menu.py, chalicelib/recommend.py), never stored on the drink.
--
-- DSQL shapes: ALTER TABLE ... ADD COLUMN takes no DEFAULT or NOT NULL there, so the
-- ingredient's traits are their own table (one row per ingredient, same key), and
-- array columns are refused, so every allergen is its own boolean column. A profile's
-- lists are read whole and never searched: JSON text, like drinks.ingredients_json.

CREATE TABLE IF NOT EXISTS ingredient_traits (
    ingredient_id UUID PRIMARY KEY,
    -- Flavour intensity, 0 (none) to 3 (dominant).
    sweet SMALLINT NOT NULL DEFAULT 0 CHECK (sweet BETWEEN 0 AND 3),
    sour SMALLINT NOT NULL DEFAULT 0 CHECK (sour BETWEEN 0 AND 3),
    bitter SMALLINT NOT NULL DEFAULT 0 CHECK (bitter BETWEEN 0 AND 3),
    fruity SMALLINT NOT NULL DEFAULT 0 CHECK (fruity BETWEEN 0 AND 3),
    herbal SMALLINT NOT NULL DEFAULT 0 CHECK (herbal BETWEEN 0 AND 3),
    spicy SMALLINT NOT NULL DEFAULT 0 CHECK (spicy BETWEEN 0 AND 3),
    smoky SMALLINT NOT NULL DEFAULT 0 CHECK (smoky BETWEEN 0 AND 3),
    creamy SMALLINT NOT NULL DEFAULT 0 CHECK (creamy BETWEEN 0 AND 3),
    fizzy SMALLINT NOT NULL DEFAULT 0 CHECK (fizzy BETWEEN 0 AND 3),
    -- Alcohol: the safety flag, and the strength (% ABV) when alcoholic.
    contains_alcohol BOOLEAN NOT NULL DEFAULT FALSE,
    abv NUMERIC(4, 1) CHECK (abv IS NULL OR (abv > 0 AND abv <= 100 AND contains_alcohol)),
    -- Dietary and allergen flags (the allergen keys of the API).
    non_vegan BOOLEAN NOT NULL DEFAULT FALSE,
    egg BOOLEAN NOT NULL DEFAULT FALSE,
    dairy BOOLEAN NOT NULL DEFAULT FALSE,
    tree_nuts BOOLEAN NOT NULL DEFAULT FALSE,
    peanuts BOOLEAN NOT NULL DEFAULT FALSE,
    gluten BOOLEAN NOT NULL DEFAULT FALSE,
    soy BOOLEAN NOT NULL DEFAULT FALSE,
    fish BOOLEAN NOT NULL DEFAULT FALSE,
    sulphites BOOLEAN NOT NULL DEFAULT FALSE,
    celery BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
GRANT SELECT ON ingredient_traits TO da_reader;
GRANT SELECT, INSERT, UPDATE ON ingredient_traits TO da_writer;

-- One row per guest (or per admin trying the bar out, keyed by their user id).
CREATE TABLE IF NOT EXISTS guest_profiles (
    guest_id UUID PRIMARY KEY,
    spirits_json TEXT NOT NULL DEFAULT '[]',
    likes_json TEXT NOT NULL DEFAULT '[]',
    dislikes_json TEXT NOT NULL DEFAULT '[]',
    strength TEXT CHECK (strength IS NULL OR strength IN ('light', 'medium', 'strong')),
    avoid_json TEXT NOT NULL DEFAULT '[]',
    alcohol_free BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
GRANT SELECT ON guest_profiles TO da_reader;
GRANT SELECT, INSERT, UPDATE ON guest_profiles TO da_writer;

-- Thumbs up (1) or down (-1) per guest and drink; clearing a rating deletes its row.
CREATE TABLE IF NOT EXISTS guest_ratings (
    guest_id UUID NOT NULL,
    drink_id UUID NOT NULL,
    rating SMALLINT NOT NULL CHECK (rating IN (-1, 1)),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (guest_id, drink_id)
);
GRANT SELECT ON guest_ratings TO da_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON guest_ratings TO da_writer;
