-- Pictures for every drink (docs/pictures.md): WebP variants of uploaded photos, AI-generated
-- photos from the drink's photo prompt, and the cost guard for the image model.
--
-- DSQL shapes: ADD COLUMN takes no DEFAULT or NOT NULL there (NULL means "none yet");
-- JSON is TEXT; no foreign keys (drink_id is checked by the code); the nightly cap is a
-- counter row per night that each generation bumps in its own transaction, so two
-- concurrent generations conflict on that row instead of both slipping under the cap.

-- The uploaded photo's WebP variants: {"source_key", "width", "height", "variants": [{"width", "key"}]}.
-- They belong to source_key only: a new photo (a new image_key) has none until resized.
ALTER TABLE drinks ADD COLUMN image_variants_json TEXT;

-- The AI-generated photo attached to the drink: {"key", "width", "height", "seed", "model_id",
-- "prompt_version", "attempt", "variants": [...], "created_at"}. An uploaded photo always wins.
ALTER TABLE drinks ADD COLUMN generated_image_json TEXT;

-- One row per generation: drink, prompt version (a hash of the prompt text) and attempt
-- (1, then one more per "regenerate"). The key makes a redelivered event a no-op.
CREATE TABLE IF NOT EXISTS picture_jobs (
    drink_id UUID NOT NULL,
    prompt_version TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    -- generating -> done | capped | superseded
    status TEXT NOT NULL CHECK (status IN ('generating', 'done', 'capped', 'superseded')),
    night DATE NOT NULL,
    model_id TEXT NOT NULL,
    seed BIGINT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    image_key TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ,
    PRIMARY KEY (drink_id, prompt_version, attempt)
);
GRANT SELECT ON picture_jobs TO da_reader;
GRANT SELECT, INSERT, UPDATE ON picture_jobs TO da_writer;

-- The cost guard: images generated per party night (see images.party_night).
CREATE TABLE IF NOT EXISTS picture_budget (
    night DATE PRIMARY KEY,
    used INTEGER NOT NULL CHECK (used >= 0)
);
GRANT SELECT ON picture_budget TO da_reader;
GRANT SELECT, INSERT, UPDATE ON picture_budget TO da_writer;
