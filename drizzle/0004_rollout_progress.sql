CREATE TABLE "rollout_selections" (
	"rollout_uid" uuid NOT NULL,
	"rank" integer NOT NULL,
	"device_uuid" uuid NOT NULL,
	CONSTRAINT "rollout_selections_rollout_uid_rank_pk" PRIMARY KEY("rollout_uid","rank")
);
--> statement-breakpoint
ALTER TABLE "rollout_members" ADD COLUMN "progress" text DEFAULT 'scheduled' NOT NULL;--> statement-breakpoint
ALTER TABLE "rollout_members" ADD COLUMN "healthy_since" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "rollout_members" ADD COLUMN "failed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "rollout_members" ADD COLUMN "last_report_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "rollout_members" ADD COLUMN "restored_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "rollout_targets" ADD COLUMN "soak" interval DEFAULT '0' NOT NULL;--> statement-breakpoint
CREATE INDEX "rollout_members_progress_idx" ON "rollout_members" USING btree ("rollout_uid","batch","progress","last_report_at","healthy_since");--> statement-breakpoint
ALTER TABLE "rollout_members" ADD CONSTRAINT "rollout_members_progress_check" CHECK ("rollout_members"."progress" in ('scheduled', 'updating', 'soaking', 'healthy', 'failed'));