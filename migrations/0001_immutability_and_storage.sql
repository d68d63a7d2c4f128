-- Custom migration (drizzle-kit generate --custom): what the drizzle schema cannot express.

-- Block bytes are fp32/int32 tensors that barely compress: skip pglz so writes stay fast and the stored
-- size is exactly the byte count (storage per version is then proportional to the delta it writes).
ALTER TABLE "blocks" ALTER COLUMN "data" SET STORAGE EXTERNAL;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "adapter_store_refuse_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'adapter-store: % on % is not allowed (immutable rows)', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'restrict_violation';
END;
$$;
--> statement-breakpoint
-- Versions and their manifests are immutable once committed (deleting a pruned version is allowed).
CREATE TRIGGER "versions_immutable" BEFORE UPDATE ON "versions"
  FOR EACH ROW EXECUTE FUNCTION "adapter_store_refuse_change"();
--> statement-breakpoint
CREATE TRIGGER "version_blocks_immutable" BEFORE UPDATE ON "version_blocks"
  FOR EACH ROW EXECUTE FUNCTION "adapter_store_refuse_change"();
--> statement-breakpoint
-- The alias log is append-only: every move stays on record.
CREATE TRIGGER "alias_log_append_only" BEFORE UPDATE OR DELETE ON "alias_log"
  FOR EACH ROW EXECUTE FUNCTION "adapter_store_refuse_change"();
