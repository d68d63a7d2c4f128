CREATE TABLE "adapter_versions" (
	"version_id" uuid PRIMARY KEY NOT NULL,
	"target_layer" text NOT NULL,
	"rank" integer NOT NULL,
	"alpha" double precision NOT NULL,
	"d_in" integer NOT NULL,
	"d_out" integer NOT NULL,
	"retrieval_key" "bytea" NOT NULL,
	"key_dim" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alias_log" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "alias_log_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"model_id" uuid NOT NULL,
	"name" text NOT NULL,
	"from_version_id" uuid,
	"to_version_id" uuid,
	"actor" text NOT NULL,
	"reason" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "aliases" (
	"model_id" uuid NOT NULL,
	"name" text NOT NULL,
	"version_id" uuid NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "aliases_pk" PRIMARY KEY("model_id","name")
);
--> statement-breakpoint
CREATE TABLE "blocks" (
	"hash" text PRIMARY KEY NOT NULL,
	"byte_length" bigint NOT NULL,
	"data" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "blocks_hash_check" CHECK ("blocks"."hash" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "blocks_length_check" CHECK (octet_length("blocks"."data") = "blocks"."byte_length")
);
--> statement-breakpoint
CREATE TABLE "ingest_batches" (
	"id" uuid PRIMARY KEY NOT NULL,
	"stream_id" uuid NOT NULL,
	"idempotency_key" text NOT NULL,
	"first_offset" bigint NOT NULL,
	"record_count" integer NOT NULL,
	"checksum" text NOT NULL,
	"status" text DEFAULT 'acknowledged' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ingest_batches_key_unique" UNIQUE("stream_id","idempotency_key"),
	CONSTRAINT "ingest_batches_status_check" CHECK ("ingest_batches"."status" in ('acknowledged', 'consumed', 'discarded'))
);
--> statement-breakpoint
CREATE TABLE "models" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"kind" text DEFAULT 'model' NOT NULL,
	"base_model_id" uuid,
	"name" text NOT NULL,
	"config" jsonb NOT NULL,
	"head_version_id" uuid,
	"version_count" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "models_kind_check" CHECK ("models"."kind" in ('model', 'adapter')),
	CONSTRAINT "models_base_check" CHECK (("models"."kind" = 'adapter') = ("models"."base_model_id" is not null))
);
--> statement-breakpoint
CREATE TABLE "regularization_blocks" (
	"version_id" uuid NOT NULL,
	"method" text NOT NULL,
	"name" text NOT NULL,
	"block_hash" text NOT NULL,
	"dtype" text NOT NULL,
	"shape" jsonb NOT NULL,
	"byte_length" bigint NOT NULL,
	CONSTRAINT "regularization_blocks_pk" PRIMARY KEY("version_id","method","name"),
	CONSTRAINT "regularization_blocks_dtype_check" CHECK ("regularization_blocks"."dtype" in ('float32', 'int32', 'uint8'))
);
--> statement-breakpoint
CREATE TABLE "regularization_states" (
	"version_id" uuid NOT NULL,
	"method" text NOT NULL,
	"meta" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "regularization_states_pk" PRIMARY KEY("version_id","method")
);
--> statement-breakpoint
CREATE TABLE "replay_items" (
	"stream_id" uuid NOT NULL,
	"slot" integer NOT NULL,
	"source_index" bigint NOT NULL,
	"item" json NOT NULL,
	CONSTRAINT "replay_items_pk" PRIMARY KEY("stream_id","slot")
);
--> statement-breakpoint
CREATE TABLE "replay_reservoirs" (
	"stream_id" uuid PRIMARY KEY NOT NULL,
	"capacity" integer NOT NULL,
	"seen" bigint DEFAULT 0 NOT NULL,
	"seed" bigint NOT NULL,
	"rng_state" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stream_records" (
	"stream_id" uuid NOT NULL,
	"offset" bigint NOT NULL,
	"batch_id" uuid NOT NULL,
	"data" json NOT NULL,
	CONSTRAINT "stream_records_pk" PRIMARY KEY("stream_id","offset")
);
--> statement-breakpoint
CREATE TABLE "streams" (
	"id" uuid PRIMARY KEY NOT NULL,
	"model_id" uuid NOT NULL,
	"name" text NOT NULL,
	"next_offset" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "streams_model_name_unique" UNIQUE("model_id","name")
);
--> statement-breakpoint
CREATE TABLE "tenants" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tenants_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "version_blocks" (
	"version_id" uuid NOT NULL,
	"name" text NOT NULL,
	"block_hash" text NOT NULL,
	"dtype" text NOT NULL,
	"shape" jsonb NOT NULL,
	"byte_length" bigint NOT NULL,
	CONSTRAINT "version_blocks_pk" PRIMARY KEY("version_id","name"),
	CONSTRAINT "version_blocks_dtype_check" CHECK ("version_blocks"."dtype" in ('float32', 'int32', 'uint8'))
);
--> statement-breakpoint
CREATE TABLE "versions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"model_id" uuid NOT NULL,
	"parent_id" uuid,
	"seq" integer NOT NULL,
	"config" jsonb NOT NULL,
	"stream_id" uuid,
	"ingest_from" bigint,
	"ingest_to" bigint,
	"lineage" jsonb NOT NULL,
	"metrics" jsonb NOT NULL,
	"message" text NOT NULL,
	"author" text NOT NULL,
	"block_count" integer NOT NULL,
	"total_bytes" bigint NOT NULL,
	"content_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "versions_model_seq_unique" UNIQUE("model_id","seq"),
	CONSTRAINT "versions_seq_check" CHECK ("versions"."seq" >= 1)
);
--> statement-breakpoint
ALTER TABLE "adapter_versions" ADD CONSTRAINT "adapter_versions_version_id_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."versions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alias_log" ADD CONSTRAINT "alias_log_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "aliases" ADD CONSTRAINT "aliases_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "aliases" ADD CONSTRAINT "aliases_version_id_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ingest_batches" ADD CONSTRAINT "ingest_batches_stream_id_streams_id_fk" FOREIGN KEY ("stream_id") REFERENCES "public"."streams"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "models" ADD CONSTRAINT "models_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "models" ADD CONSTRAINT "models_base_model_id_models_id_fk" FOREIGN KEY ("base_model_id") REFERENCES "public"."models"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "models" ADD CONSTRAINT "models_head_version_id_versions_id_fk" FOREIGN KEY ("head_version_id") REFERENCES "public"."versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "regularization_blocks" ADD CONSTRAINT "regularization_blocks_block_hash_blocks_hash_fk" FOREIGN KEY ("block_hash") REFERENCES "public"."blocks"("hash") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "regularization_blocks" ADD CONSTRAINT "regularization_blocks_state_fk" FOREIGN KEY ("version_id","method") REFERENCES "public"."regularization_states"("version_id","method") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "regularization_states" ADD CONSTRAINT "regularization_states_version_id_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."versions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "replay_items" ADD CONSTRAINT "replay_items_stream_id_replay_reservoirs_stream_id_fk" FOREIGN KEY ("stream_id") REFERENCES "public"."replay_reservoirs"("stream_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "replay_reservoirs" ADD CONSTRAINT "replay_reservoirs_stream_id_streams_id_fk" FOREIGN KEY ("stream_id") REFERENCES "public"."streams"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "streams" ADD CONSTRAINT "streams_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "version_blocks" ADD CONSTRAINT "version_blocks_version_id_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."versions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "version_blocks" ADD CONSTRAINT "version_blocks_block_hash_blocks_hash_fk" FOREIGN KEY ("block_hash") REFERENCES "public"."blocks"("hash") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "versions" ADD CONSTRAINT "versions_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "versions" ADD CONSTRAINT "versions_parent_id_versions_id_fk" FOREIGN KEY ("parent_id") REFERENCES "public"."versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "versions" ADD CONSTRAINT "versions_stream_id_streams_id_fk" FOREIGN KEY ("stream_id") REFERENCES "public"."streams"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "alias_log_model_name_idx" ON "alias_log" USING btree ("model_id","name","id");--> statement-breakpoint
CREATE INDEX "ingest_batches_offset_idx" ON "ingest_batches" USING btree ("stream_id","first_offset");--> statement-breakpoint
CREATE UNIQUE INDEX "models_tenant_name_unique" ON "models" USING btree ("tenant_id","name") WHERE "models"."kind" = 'model';--> statement-breakpoint
CREATE UNIQUE INDEX "models_base_name_unique" ON "models" USING btree ("base_model_id","name") WHERE "models"."kind" = 'adapter';--> statement-breakpoint
CREATE INDEX "regularization_blocks_hash_idx" ON "regularization_blocks" USING btree ("block_hash");--> statement-breakpoint
CREATE INDEX "version_blocks_hash_idx" ON "version_blocks" USING btree ("block_hash");--> statement-breakpoint
CREATE INDEX "versions_parent_idx" ON "versions" USING btree ("parent_id");