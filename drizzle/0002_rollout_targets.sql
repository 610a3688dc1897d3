CREATE TABLE "rollout_members" (
	"rollout_uid" uuid NOT NULL,
	"device_uuid" uuid NOT NULL,
	"rank" integer NOT NULL,
	"batch" integer NOT NULL,
	"from_etag" text NOT NULL,
	"to_etag" text NOT NULL,
	"previous" jsonb NOT NULL,
	CONSTRAINT "rollout_members_rollout_uid_device_uuid_pk" PRIMARY KEY("rollout_uid","device_uuid")
);
--> statement-breakpoint
CREATE TABLE "rollout_targets" (
	"uid" uuid PRIMARY KEY NOT NULL,
	"namespace" text NOT NULL,
	"name" text NOT NULL,
	"repository" text NOT NULL,
	"image" text NOT NULL,
	"started_batches" integer DEFAULT 0 NOT NULL,
	"state" text DEFAULT 'active' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "rollout_targets_state_check" CHECK ("rollout_targets"."state" in ('active', 'rolledBack', 'folded'))
);
--> statement-breakpoint
CREATE INDEX "rollout_members_batch_idx" ON "rollout_members" USING btree ("rollout_uid","batch","device_uuid");--> statement-breakpoint
CREATE INDEX "rollout_members_device_idx" ON "rollout_members" USING btree ("device_uuid");--> statement-breakpoint
CREATE INDEX "rollout_targets_active_idx" ON "rollout_targets" USING btree ("created_at","uid") WHERE "rollout_targets"."state" = 'active';--> statement-breakpoint
CREATE UNIQUE INDEX "devices_api_key_hash_idx" ON "devices" USING btree ("api_key_hash");