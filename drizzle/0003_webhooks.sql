CREATE TABLE "webhook_deliveries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"delivery_id" text NOT NULL,
	"state" text NOT NULL,
	"attempts" integer DEFAULT 1 NOT NULL,
	"claimed_at" timestamp with time zone NOT NULL,
	"completed_at" timestamp with time zone,
	"outcome" jsonb,
	CONSTRAINT "webhook_deliveries_source_delivery_key" UNIQUE("source","delivery_id"),
	CONSTRAINT "webhook_deliveries_state_check" CHECK ("webhook_deliveries"."state" in ('processing', 'done', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "webhook_rollouts" (
	"policy_uid" text NOT NULL,
	"image" text NOT NULL,
	"namespace" text NOT NULL,
	"name" text NOT NULL,
	"source" text NOT NULL,
	"delivery_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webhook_rollouts_pkey" PRIMARY KEY("policy_uid","image")
);
