DROP INDEX "events_subject_idx";--> statement-breakpoint
DROP INDEX "events_created_at_idx";--> statement-breakpoint
ALTER TABLE "rollout_targets" ADD COLUMN "policy" text;--> statement-breakpoint
ALTER TABLE "rollout_targets" ADD COLUMN "health_checks" jsonb;--> statement-breakpoint
CREATE INDEX "events_subject_created_idx" ON "events" USING btree ("subject","created_at","id");--> statement-breakpoint
CREATE INDEX "events_policy_created_idx" ON "events" USING btree (("payload"->>'policy'),"created_at","id") WHERE "events"."payload" ? 'policy';--> statement-breakpoint
CREATE INDEX "events_created_at_idx" ON "events" USING btree ("created_at","id");