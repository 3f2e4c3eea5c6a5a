-- The menu: sections, the ingredient catalog with stock, drinks, and the normalized
-- drink-to-ingredient links. No foreign keys (DSQL has none): the code keeps the
-- references consistent. JSON is stored as TEXT; what is searched is normalized.

CREATE TABLE IF NOT EXISTS sections (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    position INTEGER NOT NULL DEFAULT 0,
    archived_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
GRANT SELECT ON sections TO da_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON sections TO da_writer;

CREATE TABLE IF NOT EXISTS ingredients (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    category TEXT NOT NULL DEFAULT 'other',
    in_stock BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
GRANT SELECT ON ingredients TO da_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON ingredients TO da_writer;

CREATE TABLE IF NOT EXISTS drinks (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    section_id UUID NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    ingredients_json TEXT NOT NULL DEFAULT '[]',
    recipe_steps_json TEXT NOT NULL DEFAULT '[]',
    glass TEXT NOT NULL DEFAULT '',
    garnish TEXT NOT NULL DEFAULT '',
    tags_json TEXT NOT NULL DEFAULT '[]',
    abv NUMERIC(4, 1),
    image_key TEXT,
    photo_prompt TEXT,
    photo_prompt_source TEXT,
    position INTEGER NOT NULL DEFAULT 0,
    archived_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
GRANT SELECT ON drinks TO da_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON drinks TO da_writer;

CREATE INDEX ASYNC IF NOT EXISTS drinks_section_idx ON drinks (section_id);

CREATE TABLE IF NOT EXISTS drink_ingredients (
    drink_id UUID NOT NULL,
    ingredient_id UUID NOT NULL,
    position INTEGER NOT NULL DEFAULT 0,
    optional BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (drink_id, ingredient_id)
);
GRANT SELECT ON drink_ingredients TO da_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON drink_ingredients TO da_writer;

-- "Drinks with tequila": ingredients.name_key (unique) -> this index -> drink ids.
CREATE INDEX ASYNC IF NOT EXISTS drink_ingredients_ingredient_idx ON drink_ingredients (ingredient_id, drink_id);
